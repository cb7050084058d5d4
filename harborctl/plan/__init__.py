"""From a validated Config and its Secrets to the Deployment: every file rendered, in memory.

Pure: reads nothing from disk (the caller passes the server certificate's bytes) and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from harborctl.config.model import Config
from harborctl.plan.images import all_images
from harborctl.plan.model import Deployment, PlannedDir, PlannedFile
from harborctl.plan.urls import urls_for
from harborctl.render import environment, render_template
from harborctl.secrets import SECRET_MODE, SECRET_OWNER, Secrets, secret_paths

HARBOR_UID = (10000, 10000)
DATABASE_UID = (999, 999)
# Services whose compose definition has a health check (the others are waited for as "started").
HEALTHY = frozenset({"log", "registry", "registryctl", "postgresql", "adminserver", "core",
                     "portal", "redis", "proxy", "clair", "chartmuseum"})
# Notary's database users are created by the harbor-db image with this fixed password.
NOTARY_DB_PASSWORD = "password"


def services_of(config: Config) -> tuple[str, ...]:
    names = ["log", "registry", "registryctl"]
    names += ["postgresql"] if config.database.bundled else []
    names += ["adminserver", "core", "portal", "jobservice"]
    names += ["redis"] if config.redis.bundled else []
    names += ["proxy"]
    c = config.components
    names += ["notary-server", "notary-signer"] if c.notary else []
    names += ["clair"] if c.clair else []
    names += ["chartmuseum"] if c.chartmuseum else []
    return tuple(names)


def _context(config: Config, secrets: Secrets) -> dict[str, Any]:
    https = config.address.protocol == "https"
    port = config.address.https_port
    db = config.database
    clair = config.clair_db
    return {
        "cfg": config,
        "s": secrets,
        "url": urls_for(config),
        "https": https,
        "https_port_suffix": "" if port == 443 else f":{port}",
        "components": config.components,
        "images": all_images(config.images),
        "healthy": HEALTHY,
        "database_bundled": db.bundled,
        "redis_bundled": config.redis.bundled,
        "paths": {
            "data": str(config.paths.data_volume).rstrip("/") or "",
            "log_location": str(config.logs.location).rstrip("/"),
            "secretkey": str(config.paths.secretkey_path / "secretkey"),
        },
        "notary_server_db_url": f"postgres://server:{NOTARY_DB_PASSWORD}@{db.host}:{db.port}"
        "/notaryserver?sslmode=disable",
        "notary_signer_db_url": f"postgres://signer:{NOTARY_DB_PASSWORD}@{db.host}:{db.port}"
        "/notarysigner?sslmode=disable",
        "clair_db_url": f"postgresql://{quote(clair.username, safe='')}:"
        f"{quote(clair.password, safe='')}@{clair.host}:{clair.port}/"
        f"{quote(clair.database, safe='')}?sslmode=disable",
    }


# (template, destination under common/config, mode, owner); mode 0600 marks a secret.
_CORE_FILES: list[tuple[str, str, int, tuple[int, int] | None]] = [
    ("adminserver/env.j2", "adminserver/env", SECRET_MODE, None),
    ("core/env.j2", "core/env", SECRET_MODE, None),
    ("core/app.conf.j2", "core/app.conf", 0o644, HARBOR_UID),
    ("db/env.j2", "db/env", SECRET_MODE, None),
    ("jobservice/env.j2", "jobservice/env", SECRET_MODE, None),
    ("jobservice/config.yml.j2", "jobservice/config.yml", SECRET_MODE, HARBOR_UID),
    ("log/logrotate.conf.j2", "log/logrotate.conf", 0o644, None),
    ("registry/config.yml.j2", "registry/config.yml", SECRET_MODE, HARBOR_UID),
    ("registryctl/env.j2", "registryctl/env", SECRET_MODE, None),
    ("registryctl/config.yml.j2", "registryctl/config.yml", 0o644, HARBOR_UID),
]
_NOTARY_FILES: list[tuple[str, str, int, tuple[int, int] | None]] = [
    ("notary/server-config.postgres.json.j2", "notary/server-config.postgres.json", SECRET_MODE,
     HARBOR_UID),
    ("notary/signer-config.postgres.json.j2", "notary/signer-config.postgres.json", SECRET_MODE,
     HARBOR_UID),
    ("notary/server_env.j2", "notary/server_env", SECRET_MODE, None),
    ("notary/signer_env.j2", "notary/signer_env", SECRET_MODE, None),
    ("nginx/conf.d/notary.upstream.conf.j2", "nginx/conf.d/notary.upstream.conf", 0o644, None),
    ("nginx/conf.d/notary.server.conf.j2", "nginx/conf.d/notary.server.conf", 0o644, None),
]
_CLAIR_FILES: list[tuple[str, str, int, tuple[int, int] | None]] = [
    ("clair/config.yaml.j2", "clair/config.yaml", SECRET_MODE, HARBOR_UID),
    ("clair/postgres_env.j2", "clair/postgres_env", SECRET_MODE, None),
    ("clair/clair_env.j2", "clair/clair_env", SECRET_MODE, None),
]
_CHART_FILES: list[tuple[str, str, int, tuple[int, int] | None]] = [
    ("chartserver/env.j2", "chartserver/env", SECRET_MODE, None),
]


def plan_deployment(
    config: Config,
    secrets: Secrets,
    project_dir: Path,
    server_cert: tuple[bytes, bytes] | None = None,
    templates: Path | None = None,
) -> Deployment:
    """Render the whole deployment. ``server_cert`` is (certificate, key) for https."""
    generated = project_dir / "common" / "config"
    context = _context(config, secrets)
    env = environment(templates)
    table = list(_CORE_FILES)
    components = config.components
    table += _NOTARY_FILES if components.notary else []
    table += _CLAIR_FILES if components.clair else []
    table += _CHART_FILES if components.chartmuseum else []

    files = [
        PlannedFile(generated / dest, render_template(env, template, context), mode, owner,
                    secret=mode == SECRET_MODE)
        for template, dest, mode, owner in table
    ]
    nginx_template = "nginx/nginx.https.conf.j2" if context["https"] else "nginx/nginx.http.conf.j2"
    files.append(PlannedFile(generated / "nginx" / "nginx.conf",
                             render_template(env, nginx_template, context)))
    if context["https"] and server_cert is not None:
        files.append(PlannedFile(generated / "nginx" / "cert" / "server.crt", server_cert[0]))
        files.append(PlannedFile(generated / "nginx" / "cert" / "server.key", server_cert[1],
                                 SECRET_MODE, secret=True))
    files += _key_files(generated, secrets, with_notary=components.notary)
    files += _secret_files(config, secrets)
    files.append(PlannedFile(project_dir / "docker-compose.yml",
                             render_template(env, "docker-compose.yml.j2", context)))
    return Deployment(
        project_dir=project_dir,
        files=tuple(files),
        dirs=_data_dirs(config, generated),
        services=services_of(config),
        components=components,
        generated_root=generated,
        masked=tuple(_masked(config, secrets)),
    )


def _key_files(generated: Path, s: Secrets, with_notary: bool) -> list[PlannedFile]:
    files = [
        PlannedFile(generated / "core" / "private_key.pem", s.token_key_pem, SECRET_MODE,
                    HARBOR_UID, secret=True),
        PlannedFile(generated / "registry" / "root.crt", s.token_cert_pem, 0o644, HARBOR_UID),
    ]
    key, cert, ca = s.notary_signer_key_pem, s.notary_signer_cert_pem, s.notary_ca_cert_pem
    if with_notary and key and cert and ca:
        notary = generated / "notary"
        files += [
            PlannedFile(notary / "notary-signer.key", key, SECRET_MODE, HARBOR_UID, secret=True),
            PlannedFile(notary / "notary-signer.crt", cert, 0o644, HARBOR_UID),
            PlannedFile(notary / "notary-signer-ca.crt", ca, 0o644, HARBOR_UID),
            PlannedFile(notary / "root.crt", s.token_cert_pem, 0o644, HARBOR_UID),
        ]
    return files


def _secret_files(config: Config, s: Secrets) -> list[PlannedFile]:
    files = []
    for name, path in secret_paths(config).items():
        value = getattr(s, name)
        if value is None:
            continue
        content = value if isinstance(value, bytes) else value.encode()
        files.append(PlannedFile(path, content, SECRET_MODE, SECRET_OWNER, secret=True))
    return files


def _data_dirs(config: Config, generated: Path) -> tuple[PlannedDir, ...]:
    data = config.paths.data_volume
    dirs = [
        PlannedDir(data, 0o755),
        PlannedDir(data / "secret", 0o700),
        PlannedDir(data / "secret" / "harborctl", 0o700),
        PlannedDir(data / "registry", 0o755, HARBOR_UID),
        PlannedDir(data / "job_logs", 0o755, HARBOR_UID),
        PlannedDir(data / "ca_download", 0o755, HARBOR_UID),
        PlannedDir(data / "psc", 0o755, HARBOR_UID),
        PlannedDir(data / "config", 0o755, HARBOR_UID),
        PlannedDir(config.logs.location, 0o755),
        PlannedDir(generated / "core" / "certificates", 0o755),
    ]
    if config.database.bundled:
        dirs.append(PlannedDir(data / "database", 0o700, DATABASE_UID))
    if config.redis.bundled:
        dirs.append(PlannedDir(data / "redis", 0o755, DATABASE_UID))
    if config.components.chartmuseum:
        dirs.append(PlannedDir(data / "chart_storage", 0o755, HARBOR_UID))
    return tuple(dirs)


def _masked(config: Config, s: Secrets) -> list[str]:
    values = [config.auth.admin_password, config.database.password, config.redis.password,
              config.email.password, config.auth.ldap.search_pwd, config.auth.uaa.clientsecret,
              config.clair_db.password, *s.masked_values()]
    return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)
