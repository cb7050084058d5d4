"""From a valid harbor.yml (Config2) and its Secrets2 to the Deployment of Harbor 2.15.

The same walk as ``harborctl.plan.plan_deployment`` over the 2.15 profile's table, with the
values 2.x's templates need; the compose file, the rendering, the files package and the engine
are shared with 1.7.5 unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harborctl.config.model import Components
from harborctl.config.yml.model import Config2
from harborctl.hostport import parse_host_port
from harborctl.plan.harbor_2_15 import DATABASE_UID, HARBOR_2_15
from harborctl.plan.model import Deployment, PlannedDir, PlannedFile
from harborctl.plan.profile import ReleaseProfile
from harborctl.plan.services import compose_networks, compose_services
from harborctl.render import environment, render_template
from harborctl.secrets import SECRET_MODE
from harborctl.secrets_v2 import REGISTRY_USER, Secrets2

# Always added to NO_PROXY: the services' own names (Harbor's list, in a fixed order here).
SERVICE_NAMES = ("127.0.0.1", "localhost", ".local", ".internal", "log", "db", "redis", "nginx",
                 "core", "portal", "postgresql", "jobservice", "registry", "registryctl",
                 "trivy-adapter", "exporter")
SECRETS_DIR = "secret/harborctl"  # under data_volume: what harborctl keeps from run to run


@dataclass(frozen=True)
class Urls2:
    external: str
    core: str
    core_local: str
    portal: str
    registry: str
    registryctl: str
    jobservice: str
    trivy: str
    token_service: str


def external_url(config: Config2) -> str:
    if config.external_url:
        return config.external_url
    https = config.https is not None
    port = config.https.port if config.https is not None else config.http_port
    default = 443 if https else 80
    suffix = "" if port == default or parse_host_port(config.hostname).port else f":{port}"
    return f"{'https' if https else 'http'}://{config.hostname}{suffix}"


def urls_for(config: Config2) -> Urls2:
    tls = config.internal_tls is not None

    def url(name: str, port: int = 8080, tls_port: int = 8443) -> str:
        return f"https://{name}:{tls_port}" if tls else f"http://{name}:{port}"

    return Urls2(
        external=external_url(config),
        core=url("core"),
        core_local="https://core:8443" if tls else "http://127.0.0.1:8080",
        portal=url("portal"),
        registry=url("registry", 5000, 5443),
        registryctl=url("registryctl"),
        jobservice=url("jobservice"),
        trivy=url("trivy-adapter"),
        token_service=url("core") + "/service/token",
    )


def redis_url(config: Config2, db: int) -> str:
    """The URL form every 2.x service reads: scheme by TLS and sentinel, the password
    percent-encoded, the DB left out when 0, the idle timeout always appended."""
    redis = config.redis
    scheme = ("rediss" if redis.tls else "redis") + ("+sentinel" if redis.sentinel_master_set
                                                     else "")
    auth = ""
    if redis.password:
        auth = f"{quote(redis.username, safe='')}:{quote(redis.password, safe='')}@"
    master = f"/{redis.sentinel_master_set}" if redis.sentinel_master_set else ""
    database = f"/{db}" if db else ""
    return (f"{scheme}://{auth}{','.join(redis.hosts)}{master}{database}"
            f"?idle_timeout_seconds={redis.idle_timeout_seconds}")


def no_proxy(config: Config2) -> str:
    given = [p.strip() for p in config.proxy.no_proxy.split(",") if p.strip()]
    return ",".join(dict.fromkeys([*given, *SERVICE_NAMES]))


def proxy_env(config: Config2, component: str) -> dict[str, str]:
    on = component in config.proxy.components
    return {"HTTP_PROXY": config.proxy.http_proxy if on else "",
            "HTTPS_PROXY": config.proxy.https_proxy if on else "",
            "NO_PROXY": no_proxy(config) if on else ""}


def storage_options(config: Config2) -> tuple[tuple[str, str], ...]:
    """The driver's options as YAML text: the types harbor.yml gave them kept (a boolean stays
    a boolean, text is quoted), nested blocks as YAML flow mappings."""
    options = dict(config.storage.options)
    if config.storage.driver == "filesystem":
        options.setdefault("rootdirectory", "/storage")
    if config.storage.driver == "gcs" and config.storage.gcs_key is not None:
        options["keyfile"] = "/etc/registry/gcs.key"
    return tuple((json.dumps(str(k)), _yaml_scalar(v)) for k, v in options.items())


def _yaml_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, default=str)  # a nested block: JSON is YAML's flow style


def _context(profile: ReleaseProfile, config: Config2, secrets: Secrets2) -> dict[str, Any]:
    services = compose_services(profile, config)
    return {
        "cfg": config,
        "input_file": "harbor.yml",
        "s": secrets,
        "url": urls_for(config),
        "tls": config.internal_tls is not None,
        "services": services,
        "networks": compose_networks(profile, services),
        "log_port": profile.log_port,
        "redis": {name: redis_url(config, db) for name, db in (
            ("core", 0), ("registry", config.redis.registry_db),
            ("jobservice", config.redis.jobservice_db), ("trivy", config.redis.trivy_db),
            ("harbor", config.redis.harbor_db or 0),
            ("cache_layer", config.redis.cache_layer_db or 0))},
        "proxy": {c: proxy_env(config, c) for c in ("core", "jobservice", "trivy")},
        "registry_storage": storage_options(config),
        "registry_user": REGISTRY_USER,
        "trace_attributes": json.dumps(dict(config.trace.attributes))
        if config.trace is not None else "",
    }


def secret_paths_v2(config: Config2) -> dict[str, Path]:
    """Where each secret lives: Harbor 2.x's own places for the secretkey and token pair, the
    rest beside harborctl's other secrets."""
    data = config.data_volume
    own = {name: data / SECRETS_DIR / name for name in (
        "core_secret", "jobservice_secret", "registry_password", "registry_htpasswd",
        "csrf_key", "robot_prefix")}
    return {"secretkey": data / "secret" / "keys" / "secretkey",
            "token_key_pem": data / "secret" / "core" / "private_key.pem",
            "token_cert_pem": data / "secret" / "registry" / "root.crt", **own}


def plan_deployment_v2(config: Config2, secrets: Secrets2, project_dir: Path,
                       server_cert: tuple[bytes, bytes] | None = None) -> Deployment:
    profile = HARBOR_2_15
    generated = project_dir / "common" / "config"
    context = _context(profile, config, secrets)
    env = environment()
    uid = profile.service_uid
    files = [PlannedFile(generated / f.dest, render_template(env, f.template, context), f.mode,
                         f.owner, secret=f.mode == SECRET_MODE)
             for f in profile.files_of(config)]
    files += [PlannedFile(generated / copy.dest, file.content, copy.mode, copy.owner,
                          secret=copy.mode == SECRET_MODE)
              for copy, file in profile.copies_of(config)]
    planned = {f.path for f in files}
    files += [PlannedFile(generated / point, b"", 0o644, uid)
              for point in profile.mount_points(config) if generated / point not in planned]
    secret = config.data_volume / "secret"
    if config.https is not None and server_cert is not None:
        files += [PlannedFile(secret / "cert" / "server.crt", server_cert[0], 0o644, uid),
                  PlannedFile(secret / "cert" / "server.key", server_cert[1], SECRET_MODE, uid,
                              secret=True)]
    if config.internal_tls is not None:
        for name, file in config.internal_tls.files:
            key = name.endswith(".key")
            owner = DATABASE_UID if name.startswith("harbor_db") else uid
            files.append(PlannedFile(secret / "tls" / name, file.content,
                                     SECRET_MODE if key else 0o644, owner, secret=key))
    for name, path in secret_paths_v2(config).items():
        value = getattr(secrets, name)
        content = value if isinstance(value, bytes) else value.encode()
        public = name == "token_cert_pem"
        files.append(PlannedFile(path, content, 0o644 if public else SECRET_MODE, uid,
                                 secret=not public))
    files.append(PlannedFile(project_dir / "docker-compose.yml",
                             render_template(env, "docker-compose.yml.j2", context)))
    roots = {"data": config.data_volume, "log": config.log.location, "generated": generated}
    dirs = [PlannedDir(config.data_volume, 0o755), PlannedDir(secret, 0o700),
            *(PlannedDir(secret / d, 0o700) for d in ("harborctl", "keys", "core", "registry")),
            *([PlannedDir(secret / "cert", 0o755)] if config.https is not None else []),
            *([PlannedDir(secret / "tls", 0o755)] if config.internal_tls is not None else []),
            *(PlannedDir(roots[d.root] / d.path, d.mode, d.owner)
              for d in profile.dirs_of(config))]
    masked = {*config.secret_values(), *secrets.masked_values()}
    return Deployment(
        project_dir=project_dir,
        files=tuple(files),
        dirs=tuple(dirs),
        services=tuple(s.name for s in context["services"]),
        components=Components(notary=False, clair=False, chartmuseum=False),
        generated_root=generated,
        masked=tuple(sorted((v for v in masked if len(v) >= 3), key=len, reverse=True)),
    )
