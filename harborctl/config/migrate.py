"""harbor.cfg (Harbor 1.7) to harbor.yml (Harbor 2.15): a pure conversion.

Every key of the old file either lands on a key of the new one or is listed as dropped, with
where its setting lives in 2.x. Values are taken as written (passwords and paths kept byte for
byte); defaults of keys the file leaves out are Harbor 1.7's, so the new file means the same.
The database is not touched: 1.7's data reaches 2.15 only through Harbor's stepwise upgrade.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harborctl.config.keys import DEFAULTS
from harborctl.config.loader import RawConfig
from harborctl.errors import UsageError
from harborctl.hostport import parse_host_port
from harborctl.quoting import yaml_bare_scalar

TARGET_VERSION = "2.15.0"
_UI_OR_API = "set it in the UI or with PUT /api/v2.0/configurations after the upgrade"
# 1.7 key -> the 2.x configuration item that keeps it in the database
DATABASE_ITEMS = {
    "auth_mode": "auth_mode", "self_registration": "self_registration",
    "token_expiration": "token_expiration",
    "project_creation_restriction": "project_creation_restriction",
    "ldap_url": "ldap_url", "ldap_filter": "ldap_filter", "ldap_uid": "ldap_uid",
    "ldap_scope": "ldap_scope", "ldap_timeout": "ldap_timeout",
    "ldap_verify_cert": "ldap_verify_cert", "ldap_group_admin_dn": "ldap_group_admin_dn",
    "ldap_searchdn": "ldap_search_dn", "ldap_search_pwd": "ldap_search_password",
    "ldap_basedn": "ldap_base_dn", "ldap_group_basedn": "ldap_group_base_dn",
    "ldap_group_filter": "ldap_group_search_filter", "ldap_group_gid": "ldap_group_attribute_name",
    "ldap_group_scope": "ldap_group_search_scope", "uaa_endpoint": "uaa_endpoint",
    "uaa_clientid": "uaa_client_id", "uaa_clientsecret": "uaa_client_secret",
    "uaa_verify_cert": "uaa_verify_cert",
}
_NO_EQUIVALENT = {
    "customize_crt": "2.x always generates the token key pair once and keeps it under "
                     "data_volume/secret/core",
    "admiral_url": "Admiral integration was removed from Harbor",
    "reload_config": "2.x has no adminserver: system settings are re-read at every start",
    "skip_reload_env_pattern": "2.x has no adminserver: system settings are re-read at every "
                               "start",
    "with_notary": "notary (content trust) was removed in Harbor v2.9; sign with cosign or "
                   "notation instead",
    "with_clair": "clair was removed in Harbor v2.2; Trivy scans instead (--with-trivy)",
    "with_chartmuseum": "chartmuseum was removed in Harbor v2.8; push charts as OCI artifacts",
    "image_source": "the 2.x profile runs the goharbor/ images",
    "harbor_release": "harbor.yml itself selects the 2.x profile (_version)",
}


@dataclass(frozen=True)
class Dropped:
    key: str
    line: int
    where: str  # where the setting lives in 2.x, or why it has no equivalent


@dataclass(frozen=True)
class Migration:
    text: str  # the harbor.yml
    moved: tuple[tuple[str, str], ...]  # (1.7 key, 2.x key path)
    dropped: tuple[Dropped, ...]
    notes: tuple[str, ...] = field(default=())


def _scalar(value: str) -> str:
    """A value YAML reads back as the same text (or as the bool/number the text spells)."""
    return value if yaml_bare_scalar(value) else json.dumps(value, ensure_ascii=False)


def _number(value: str) -> str:
    """A port or count as written; what is not a number stays text, for the check to report."""
    return value if value.isascii() and value.isdigit() else _text(value)


def _text(value: str) -> str:
    """A value YAML reads back as exactly this text."""
    return json.dumps(value, ensure_ascii=False)


class _Writer:
    def __init__(self, raw: RawConfig) -> None:
        self.raw = raw
        self.lines: list[str] = []
        self.moved: list[tuple[str, str]] = []
        self.used: set[str] = set()

    def get(self, key: str) -> str:
        value = self.raw.values.get(key)
        return value.value if value is not None else DEFAULTS.get(key, "")

    def given(self, key: str) -> bool:
        return key in self.raw.values

    def put(self, indent: int, name: str, value: str, *sources: str, path: str = "") -> None:
        lines = [str(self.raw.values[s].line) for s in sources if s in self.raw.values]
        where = f"  # harbor.cfg line {', '.join(lines)}" if lines else ""
        self.lines.append(f"{'  ' * indent}{name}: {value}{where}")
        for source in sources:
            self.used.add(source)
            self.moved.append((source, path or name))

    def absorb(self, why: str, *keys: str) -> None:
        """Keys read without a line of their own in harbor.yml (a default of 2.x, unused)."""
        for key in keys:
            if key not in self.used:
                self.used.add(key)
                self.moved.append((key, f"({why})"))

    def block(self, indent: int, name: str) -> None:
        self.lines.append(f"{'  ' * indent}{name}:")


def _address(w: _Writer) -> None:
    https = w.get("ui_url_protocol") == "https"
    try:
        parsed = parse_host_port(w.get("hostname"), brackets=False)
        host, port_in_name = parsed.host, parsed.port
    except UsageError:  # malformed: carried as it is, for the 2.x check to report
        host, port_in_name = w.get("hostname"), None
    w.put(0, "hostname", _text(host), "hostname")
    http_port = str(port_in_name) if port_in_name and not https else w.get("http_port")
    https_port = str(port_in_name) if port_in_name and https else w.get("https_port")
    w.block(0, "http")
    w.put(1, "port", _number(http_port), "http_port", path="http.port")
    w.used.add("ui_url_protocol")
    w.moved.append(("ui_url_protocol", "https" if https else "(no https block: plain http)"))
    if https:
        w.block(0, "https")
        w.put(1, "port", _number(https_port), "https_port", path="https.port")
        w.put(1, "certificate", _text(w.get("ssl_cert")), "ssl_cert", "ui_url_protocol",
              path="https.certificate")
        w.put(1, "private_key", _text(w.get("ssl_cert_key")), "ssl_cert_key",
              path="https.private_key")
    else:
        w.absorb("unused with plain http", "https_port", "ssl_cert", "ssl_cert_key")


def _database(w: _Writer) -> None:
    if w.get("db_host") == DEFAULTS["db_host"]:
        w.block(0, "database")
        w.put(1, "password", _text(w.get("db_password")), "db_password",
              path="database.password")
        w.lines += ["  max_idle_conns: 100", "  max_open_conns: 900"]
        w.absorb("the bundled database, as in 2.x", "db_host", "db_port", "db_user")
        return
    w.lines += ["external_database:", "  harbor:"]
    for name, key in (("host", "db_host"), ("port", "db_port"), ("username", "db_user"),
                      ("password", "db_password")):
        value = _number(w.get(key)) if name == "port" else _text(w.get(key))
        w.put(2, name, value, key, path=f"external_database.harbor.{name}")
    w.lines += ['    db_name: "registry"', '    ssl_mode: "disable"']


def _redis(w: _Writer, dropped: list[Dropped]) -> None:
    indexes = [i.strip() for i in w.get("redis_db_index").split(",")]
    external = w.get("redis_host") != DEFAULTS["redis_host"]
    block = "external_redis" if external else "redis"
    w.block(0, block)
    if external:
        address = f"{w.get('redis_host')}:{w.get('redis_port')}"
        w.put(1, "host", _text(address), "redis_host", "redis_port", path=f"{block}.host")
        if w.get("redis_password"):
            w.put(1, "password", _text(w.get("redis_password")), "redis_password",
                  path=f"{block}.password")
    for position, name in enumerate(("registry", "jobservice")):
        given = indexes[position] if len(indexes) > position else ""
        value = _number(given) if given else str(position + 1)
        w.put(1, f"{name}_db_index", value, "redis_db_index", path=f"{block}.{name}_db_index")
    w.lines.append("  trivy_db_index: 5")
    w.absorb("the bundled redis (valkey), as in 2.x", "redis_host", "redis_port",
             "redis_password")
    if len(indexes) > 2 and "redis_db_index" in w.raw.values:
        dropped.append(Dropped("redis_db_index", w.raw.values["redis_db_index"].line,
                               f"its third index ({indexes[2]}) was chartmuseum's, which 2.x "
                               "no longer has"))


def _storage(w: _Writer) -> None:
    name = w.get("registry_storage_provider_name") or "filesystem"
    options = [p.partition(":") for p in (s.strip() for s in
               w.get("registry_storage_provider_config").split(",")) if p]
    w.block(0, "storage_service")
    if w.get("registry_custom_ca_bundle"):
        w.put(1, "ca_bundle", _text(w.get("registry_custom_ca_bundle")),
              "registry_custom_ca_bundle", path="storage_service.ca_bundle")
    w.put(1, name, "" if options else "{}", "registry_storage_provider_name",
          "registry_storage_provider_config", path=f"storage_service.{name}")
    for key, _, value in options:
        # 1.7 wrote the options into the registry's YAML as they stood: true stays a boolean
        w.lines.append(f"    {key.strip()}: {_scalar(value.strip())}")
    w.absorb("empty: no CA bundle", "registry_custom_ca_bundle")


def _tail(w: _Writer) -> None:
    w.block(0, "jobservice")
    w.put(1, "max_job_workers", _number(w.get("max_job_workers")), "max_job_workers",
          path="jobservice.max_job_workers")
    w.lines += ["  job_loggers:", "    - STD_OUTPUT", "    - FILE",
                "  logger_sweeper_duration: 1", "notification:", "  webhook_job_max_retry: 3",
                "  webhook_job_http_client_timeout: 3", "log:", "  level: info", "  local:"]
    w.put(2, "rotate_count", _number(w.get("log_rotate_count")), "log_rotate_count",
          path="log.local.rotate_count")
    w.put(2, "rotate_size", _text(w.get("log_rotate_size")), "log_rotate_size",
          path="log.local.rotate_size")
    w.put(2, "location", _text(w.get("log_location")), "log_location",
          path="log.local.location")
    if any(w.get(k) for k in ("http_proxy", "https_proxy")):
        w.block(0, "proxy")
        for key in ("http_proxy", "https_proxy", "no_proxy"):
            w.put(1, key, _text(w.get(key)), key, path=f"proxy.{key}")
        w.lines += ["  components:", "    - core", "    - jobservice", "    - trivy"]
    else:
        w.absorb("no proxy set", "http_proxy", "https_proxy", "no_proxy")
    if w.get("auth_mode") == "uaa_auth" and w.get("uaa_ca_cert") != DEFAULTS["uaa_ca_cert"]:
        w.block(0, "uaa")
        w.put(1, "ca_file", _text(w.get("uaa_ca_cert")), "uaa_ca_cert", path="uaa.ca_file")
    w.lines += ["upload_purging:", "  enabled: true", '  age: "168h"', '  interval: "24h"',
                "  dryrun: false", f"_version: {TARGET_VERSION}"]


def _where(key: str, data_volume: str) -> str:
    if key in DATABASE_ITEMS:
        return f"kept in 2.x's database as {DATABASE_ITEMS[key]}: {_UI_OR_API}"
    if key.startswith("email_"):
        return "e-mail settings were removed in Harbor v2.7 (password reset by e-mail is gone)"
    if key.startswith("clair_"):
        return "clair was removed in Harbor v2.2; Trivy scans instead (--with-trivy)"
    if key == "secretkey_path":
        return (f"2.x reads the secretkey from {data_volume}/secret/keys/secretkey: move "
                "<secretkey_path>/secretkey there before 2.x first starts, or every credential "
                "Harbor stored encrypted is lost")
    if key == "uaa_ca_cert":
        return "only used with auth_mode uaa_auth (uaa.ca_file)"
    if key == "_version":
        return f"replaced by _version: {TARGET_VERSION}"
    return _NO_EQUIVALENT.get(key, "no 2.x equivalent")


def migrate_cfg(raw: RawConfig) -> Migration:
    """The harbor.yml for ``raw``, with every key of ``raw`` accounted for."""
    w = _Writer(raw)
    source = raw.path.name
    w.lines += [f"# harbor.yml for Harbor v2.15, converted by 'harborctl config migrate' from "
                f"{source}.", "# Comments name the harbor.cfg line each value came from.", ""]
    _address(w)
    w.put(0, "harbor_admin_password", _text(w.get("harbor_admin_password")),
          "harbor_admin_password")
    _database(w)
    w.put(0, "data_volume", _text(w.get("data_volume")), "data_volume")
    dropped: list[Dropped] = []
    _redis(w, dropped)
    _storage(w)
    _tail(w)
    for key, value in raw.values.items():
        if key not in w.used and not any(d.key == key for d in dropped):
            dropped.append(Dropped(key, value.line, _where(key, w.get("data_volume"))))
    notes = ["the database is not migrated: a Harbor 1.7 database reaches 2.15 only through "
             "Harbor's stepwise upgrade (see README, 'From Harbor 1.7 to 2.x')"]
    if w.get("ui_url_protocol") != "https":
        notes.append("plain http kept; 2.x's check warns about it")
    moved = tuple((k, p) for k, p in w.moved if k in raw.values)
    return Migration("\n".join(w.lines) + "\n", moved,
                     tuple(sorted(dropped, key=lambda d: d.line)), tuple(notes))
