"""Checks that need the whole validated Config: how keys combine, and keys that have no effect
in the configuration they are in (reported, never silently dropped)."""

from __future__ import annotations

from collections.abc import Callable

from harborctl.config import model as m
from harborctl.config.keys import DEFAULTS
from harborctl.config.reader import ValueReader


def check_whole_config(r: ValueReader, config: m.Config) -> None:
    _check_clair_on_bundled_db(r, config)
    _check_chart_storage(r, config)
    _warn_ignored_keys(r, config)


def _check_chart_storage(r: ValueReader, config: m.Config) -> None:
    """Charts go where the images go; chartmuseum's openstack backend cannot start without the
    region, which the registry's swift driver may do without."""
    storage = config.storage
    if (config.components.chartmuseum and storage.provider == "swift"
            and not storage.provider_config.get("region")):
        r.error("registry_storage_provider_config",
                "chartmuseum keeps the charts in the swift container and needs its region",
                "add 'region: ...' to the swift options")


def _check_clair_on_bundled_db(r: ValueReader, config: m.Config) -> None:
    """clair on the bundled server logs in as its superuser, whose password is db_password."""
    clair = config.clair_db
    if not (config.components.clair and clair.bundled and config.database.bundled):
        return
    if clair.username == "postgres" and clair.password != config.database.password:
        r.warn("clair_db_password",
               "differs from db_password, but clair logs in to the bundled database as its "
               "superuser 'postgres', whose password is db_password",
               "set clair_db_password to db_password")


def _over_http(r: ValueReader, _config: m.Config) -> bool:
    # The protocol as written: an invalid one (an error already) makes nothing ignored.
    return r.text("ui_url_protocol") == "http"


def _no_clair(_reader: ValueReader, c: m.Config) -> bool:
    return not c.components.clair


Ignored = Callable[[ValueReader, m.Config], bool]
# Keys that have no effect in some configurations: (key, when it is ignored, why). A key set to
# a value other than its default there is reported, never silently dropped.
_IGNORED_WHEN: tuple[tuple[str, Ignored, str], ...] = (
    ("_version", lambda _r, _c: True,
     "harborctl reads this file as Harbor 1.7's format whatever it says"),
    ("customize_crt", lambda _r, c: not c.tls.customize_crt,
     "harborctl always creates the token-signing key of this deployment (Harbor's 'off' "
     "installed a demo key shared by every such install)"),
    ("ssl_cert", _over_http, "the certificate is used only with ui_url_protocol = https"),
    ("ssl_cert_key", _over_http, "the key is used only with ui_url_protocol = https"),
    ("https_port", _over_http, "it is used only with ui_url_protocol = https"),
    ("http_proxy", _no_clair, "only clair uses the proxy settings, and clair is off"),
    ("https_proxy", _no_clair, "only clair uses the proxy settings, and clair is off"),
    ("no_proxy", _no_clair, "only clair uses the proxy settings, and clair is off"),
    ("clair_updaters_interval", _no_clair, "clair is off"),
    ("uaa_ca_cert", lambda _r, c: c.auth.mode != "uaa_auth", "auth_mode is not uaa_auth"),
    ("skip_reload_env_pattern", lambda _r, c: not c.reload_config,
     "reload_config is off, so no setting is re-applied anyway"),
)


def _warn_ignored_keys(r: ValueReader, config: m.Config) -> None:
    for key, ignored, why in _IGNORED_WHEN:
        if r.is_set(key) and r.text(key) != DEFAULTS[key] and ignored(r, config):
            r.warn(key, f"has no effect: {why}", "remove the line, or see harbor.cfg.example")
