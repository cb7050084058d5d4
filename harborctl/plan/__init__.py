"""From a validated Config and its Secrets to the Deployment: every file rendered, in memory.

Pure: reads nothing from disk (the caller passes the server certificate's bytes; validation read
the operator's CA and key files) and writes nothing but Jinja's bytecode cache (render.py).
What the release consists of (services, images, files, folders) comes from its release profile
(``harborctl.plan.profile``); this module only walks it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from harborctl.config.model import Config
from harborctl.plan.model import Deployment, PlannedDir, PlannedFile
from harborctl.plan.profile import ReleaseProfile
from harborctl.plan.releases import profile_of
from harborctl.plan.services import (
    compose_networks,
    compose_services,
    host_ports,
    services_of,
)
from harborctl.plan.storage import chart_storage_env, registry_storage_options
from harborctl.plan.urls import urls_for
from harborctl.secrets import SECRET_MODE, Secrets, secret_paths

if TYPE_CHECKING:
    import jinja2

__all__ = ["host_ports", "plan_deployment", "services_of"]

# Notary's database users are created by the harbor-db image with this fixed password, so notary
# always uses the bundled server, even when Harbor's own data is on an external one.
NOTARY_DB_PASSWORD = "password"
BUNDLED_DB = "postgresql:5432"


def _context(profile: ReleaseProfile, config: Config, secrets: Secrets) -> dict[str, Any]:
    https = config.address.protocol == "https"
    port = config.address.https_port
    clair = config.clair_db
    services = compose_services(profile, config)
    return {
        "cfg": config,
        "input_file": "harbor.cfg",
        "s": secrets,
        "url": urls_for(config),
        "https": https,
        "https_port_suffix": "" if port == 443 else f":{port}",
        "services": services,
        "networks": compose_networks(profile, services),
        "log_port": profile.log_port,
        "notary_server_db_url": f"postgres://server:{NOTARY_DB_PASSWORD}@{BUNDLED_DB}"
        "/notaryserver?sslmode=disable",
        "notary_signer_db_url": f"postgres://signer:{NOTARY_DB_PASSWORD}@{BUNDLED_DB}"
        "/notarysigner?sslmode=disable",
        "bundled_db_password": _bundled_db_password(config),
        "chart_storage": chart_storage_env(config.storage),
        "registry_storage": registry_storage_options(config.storage),
        "clair_db_url": f"postgresql://{quote(clair.username, safe='')}:"
        f"{quote(clair.password, safe='')}@{clair.host}:{clair.port}/"
        f"{quote(clair.database, safe='')}?sslmode=disable",
    }


def _bundled_db_password(config: Config) -> str:
    """The superuser password of the bundled server: Harbor's db_password while Harbor's data
    lives there; with an external db_host it runs for notary and clair, and clair logs in as
    that superuser with clair_db_password."""
    if not config.database.bundled and config.components.clair and config.clair_db.bundled:
        return config.clair_db.password
    return config.database.password


def plan_deployment(
    config: Config,
    secrets: Secrets,
    project_dir: Path,
    server_cert: tuple[bytes, bytes] | None = None,
    profile: ReleaseProfile | None = None,
) -> Deployment:
    """Render the whole deployment. ``server_cert`` is (certificate, key) for https; ``profile``
    is the release's (the one of ``config.images.release`` unless given)."""
    # jinja2 only here: an install whose prepare has nothing to do reads the profile, not this
    from harborctl.render import environment, render_template

    profile = profile or profile_of(config)
    generated = project_dir / "common" / "config"
    context = _context(profile, config, secrets)
    env = environment()
    context["reload_key"] = _reload_key(env, profile, config, context)
    files = [
        PlannedFile(generated / f.dest, render_template(env, f.template, context), f.mode,
                    f.owner, secret=f.mode == SECRET_MODE)
        for f in profile.files_of(config)
    ]
    if context["https"] and server_cert is not None:
        files.append(PlannedFile(generated / "nginx" / "cert" / "server.crt", server_cert[0]))
        files.append(PlannedFile(generated / "nginx" / "cert" / "server.key", server_cert[1],
                                 SECRET_MODE, secret=True))
    files += [PlannedFile(generated / copy.dest, file.content, copy.mode, copy.owner,
                          secret=copy.mode == SECRET_MODE)
              for copy, file in profile.copies_of(config)]
    files += _key_files(profile, generated, secrets, with_notary=config.components.notary)
    files += _secret_files(profile, config, secrets)
    files.append(PlannedFile(project_dir / "docker-compose.yml",
                             render_template(env, "docker-compose.yml.j2", context)))
    return Deployment(
        project_dir=project_dir,
        files=tuple(files),
        dirs=_data_dirs(profile, config, generated),
        services=tuple(s.name for s in context["services"]),
        components=config.components,
        generated_root=generated,
        masked=tuple(_masked(config, secrets)),
    )


def _reload_key(env: jinja2.Environment, profile: ReleaseProfile, config: Config,
                context: dict[str, Any]) -> str:
    """Harbor 1.7's adminserver re-applies its env only when RESET is on and RELOAD_KEY differs
    from the key it stored: a hash of the settings themselves reloads after each change of
    them and never otherwise (an unchanged harbor.cfg keeps converge a no-op)."""
    from harborctl.render import render_template

    if not config.reload_config or profile.reloaded_settings is None:
        return ""
    settings = render_template(env, profile.reloaded_settings, {**context, "reload_key": ""})
    return hashlib.sha256(settings).hexdigest()[:32]


def _key_files(profile: ReleaseProfile, generated: Path, s: Secrets, with_notary: bool
               ) -> list[PlannedFile]:
    uid = profile.service_uid
    files = [
        PlannedFile(generated / "core" / "private_key.pem", s.token_key_pem, SECRET_MODE,
                    uid, secret=True),
        PlannedFile(generated / "registry" / "root.crt", s.token_cert_pem, 0o644, uid),
    ]
    key, cert, ca = s.notary_signer_key_pem, s.notary_signer_cert_pem, s.notary_ca_cert_pem
    if with_notary and key and cert and ca:
        notary = generated / "notary"
        files += [
            PlannedFile(notary / "notary-signer.key", key, SECRET_MODE, uid, secret=True),
            PlannedFile(notary / "notary-signer.crt", cert, 0o644, uid),
            PlannedFile(notary / "notary-signer-ca.crt", ca, 0o644, uid),
            PlannedFile(notary / "root.crt", s.token_cert_pem, 0o644, uid),
        ]
    return files


def _secret_files(profile: ReleaseProfile, config: Config, s: Secrets) -> list[PlannedFile]:
    files = []
    for name, path in secret_paths(config).items():
        value = getattr(s, name)
        if value is None:
            continue
        content = value if isinstance(value, bytes) else value.encode()
        files.append(PlannedFile(path, content, SECRET_MODE, profile.service_uid,
                                 secret=True))
    return files


def _data_dirs(profile: ReleaseProfile, config: Config, generated: Path
               ) -> tuple[PlannedDir, ...]:
    data = config.paths.data_volume
    roots = {"data": data, "log": config.logs.location, "generated": generated}
    # harborctl's own folders first: its secrets live under the data volume.
    dirs = [
        PlannedDir(data, 0o755),
        PlannedDir(data / "secret", 0o700),
        PlannedDir(data / "secret" / "harborctl", 0o700),
    ]
    dirs += [PlannedDir(roots[d.root] / d.path, d.mode, d.owner)
             for d in profile.dirs_of(config)]
    return tuple(dirs)


def _masked(config: Config, s: Secrets) -> list[str]:
    values = [*config.secret_values(), *s.masked_values()]
    return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)
