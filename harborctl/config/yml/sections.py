"""Readers of harbor.yml's larger blocks: storage, redis, trace."""

from __future__ import annotations

import re

from harborctl.config.guards import service_host_problem
from harborctl.config.model import OperatorFile
from harborctl.config.operator_files import ReadFile, read_ca_bundle, read_json_key
from harborctl.config.reader import shown
from harborctl.config.sections import REQUIRED_STORAGE_OPTIONS
from harborctl.config.yml import model as m
from harborctl.config.yml.keys import STORAGE_DRIVERS
from harborctl.config.yml.reader import YamlReader, type_name

DB_INDEXES = ("registry", "jobservice", "trivy", "harbor", "cache_layer")
DEFAULT_DB = {"registry": 1, "jobservice": 2, "trivy": 5}
_HOST_PORT = re.compile(r"(?P<host>[^:,\s]+):(?P<port>[0-9]{1,5})")


def read_ca(r: YamlReader, path: str, read_file: ReadFile) -> OperatorFile | None:
    return read_ca_bundle(r, path, r.absolute_path(path), read_file)


def read_storage(r: YamlReader, read_file: ReadFile) -> m.Storage:
    given = [d for d in STORAGE_DRIVERS if r.is_set(f"storage_service.{d}")]
    if len(given) > 1:
        # Harbor's prepare would take the first of its list and ignore the others silently.
        r.error(f"storage_service.{given[1]}",
                f"more than one storage driver is set ({', '.join(given)})",
                "keep the block of the one driver the registry uses")
    driver = given[0] if given else "filesystem"
    path = f"storage_service.{driver}"
    options: dict[str, object] = {}
    raw = r.value(path)
    if raw is not None and not isinstance(raw, dict):
        r.error(path, f"must be a block of the driver's options, not {type_name(raw)}")
    elif isinstance(raw, dict):
        options = raw
    for name in REQUIRED_STORAGE_OPTIONS.get(driver, ()):
        if options.get(name) in (None, ""):
            r.error(f"{path}.{name}", f"missing: the registry's {driver} driver needs it")
    gcs_key = None
    if driver == "gcs" and options.get("keyfile"):
        keyfile = r.absolute_path(f"{path}.keyfile")
        if keyfile is not None:
            gcs_key = read_json_key(r, f"{path}.keyfile", keyfile,
                                    read_file)
    redirect = r.value("storage_service.redirect")
    if redirect is not None and not isinstance(redirect, dict):
        r.error("storage_service.redirect", "must be a block with 'disable: true' or false")
    return m.Storage(
        driver=driver,
        options=tuple(options.items()),
        ca_bundle=read_ca(r, "storage_service.ca_bundle", read_file)
        if r.is_set("storage_service.ca_bundle") else None,
        gcs_key=gcs_key,
        redirect_disabled=r.boolean("storage_service.redirect.disable"),
    )


def _redis_hosts(r: YamlReader, path: str) -> tuple[str, ...]:
    value = r.text(path, required=True, example="redis.example.com:6379")
    hosts = []
    for entry in (e.strip() for e in value.split(",")):
        match = _HOST_PORT.fullmatch(entry)
        problem = service_host_problem(match.group("host")) if match else None
        if not match or problem or not 1 <= int(match.group("port")) <= 65535:
            r.error(path, problem or f"{shown(entry)} is not host:port",
                    "write host:port, or a comma-separated list of sentinels host:port")
            continue
        hosts.append(entry)
    return tuple(hosts)


def read_redis(r: YamlReader, read_file: ReadFile) -> m.Redis:
    external = r.block("external_redis")
    if external and r.block("redis"):
        # Harbor's prepare would then ignore every external_redis value silently.
        r.error("redis", "both redis and external_redis are set",
                "with your own redis, put the *_db_index keys under external_redis")
    block = "external_redis" if external else "redis"
    dbs = {name: r.integer(f"{block}.{name}_db_index", DEFAULT_DB.get(name, 0), 0,
                           2**31 - 1 if external else 15) for name in DB_INDEXES}
    if not external:
        return m.Redis(False, ("redis:6379",), "", "", "", False, None, dbs["registry"],
                       dbs["jobservice"], dbs["trivy"],
                       dbs["harbor"] if r.is_set("redis.harbor_db_index") else None,
                       dbs["cache_layer"] if r.is_set("redis.cache_layer_db_index") else None,
                       30)
    hosts = _redis_hosts(r, "external_redis.host")
    master = r.text("external_redis.sentinel_master_set")
    if len(hosts) > 1 and not master:
        r.error("external_redis.sentinel_master_set", "missing: several hosts are sentinels, "
                "which need the name of the master set")
    username = r.text("external_redis.username")
    password = r.text("external_redis.password")
    if username and not password:
        r.error("external_redis.username", "a user name without a password makes a redis URL "
                "the services cannot read", "set external_redis.password too")
    tls = r.boolean("external_redis.tlsOptions.enable")
    root_ca = None
    if tls:
        if not r.is_set("external_redis.tlsOptions.rootCA"):
            r.error("external_redis.tlsOptions.rootCA", "missing: TLS to redis needs the CA "
                    "that signed its certificate")
        else:
            root_ca = read_ca(r, "external_redis.tlsOptions.rootCA", read_file)
    return m.Redis(True, hosts, master, username, password, tls, root_ca, dbs["registry"],
                   dbs["jobservice"], dbs["trivy"],
                   dbs["harbor"] if r.is_set("external_redis.harbor_db_index") else None,
                   dbs["cache_layer"] if r.is_set("external_redis.cache_layer_db_index")
                   else None,
                   r.integer("external_redis.idle_timeout_seconds", 30, 0))


def read_trace(r: YamlReader) -> m.Trace | None:
    if not r.block("trace") or not r.boolean("trace.enabled"):
        return None
    rate = r.value("trace.sample_rate")
    sample_rate = 1.0
    if rate is not None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            r.error("trace.sample_rate", f"{shown(str(rate))} is not a number from 0 to 1")
        else:
            sample_rate = float(rate)
    attributes: list[tuple[str, str]] = []
    raw = r.value("trace.attributes")
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(value, (dict, list)):
                r.error(f"trace.attributes.{key}", "must be a single value")
            else:
                attributes.append((key, "" if value is None else str(value)))
    elif raw is not None:
        r.error("trace.attributes", f"must be a block of name: value, not {type_name(raw)}")
    jaeger = otel = None
    if r.block("trace.jaeger"):
        endpoint = r.text("trace.jaeger.endpoint")
        agent = r.text("trace.jaeger.agent_host")
        if bool(endpoint) == bool(agent):
            r.error("trace.jaeger", "set exactly one of endpoint and agent_host")
        jaeger = m.Jaeger(endpoint, r.text("trace.jaeger.username"),
                          r.text("trace.jaeger.password"), agent,
                          r.port("trace.jaeger.agent_port", 6831) if agent else None)
    if r.block("trace.otel"):
        otel = m.Otel(r.text("trace.otel.endpoint", required=True, example="otel:4318"),
                      r.text("trace.otel.url_path", required=True, example="/v1/traces"),
                      r.boolean("trace.otel.compression"), r.boolean("trace.otel.insecure"),
                      r.integer("trace.otel.timeout", 10, 1))
    if (jaeger is None) == (otel is None):
        r.error("trace", "an enabled trace needs exactly one of the jaeger and otel blocks")
    return m.Trace(sample_rate, r.text("trace.namespace"), tuple(attributes), jaeger, otel)


# What gencert makes in internal_tls.dir, by file stem; the services mount their own pair.
INTERNAL_TLS_PAIRS = ("proxy", "portal", "core", "job_service", "registryctl", "registry")
INTERNAL_CA = "harbor_internal_ca.crt"


def read_internal_tls(r: YamlReader, read_file: ReadFile, with_trivy: bool
                       ) -> m.InternalTls | None:
    if not r.block("internal_tls") or not r.boolean("internal_tls.enabled"):
        return None
    folder = r.absolute_path("internal_tls.dir", required=True,
                             example="/etc/harbor/tls/internal")
    if folder is None:
        return None
    stems = (*INTERNAL_TLS_PAIRS, *(("trivy_adapter",) if with_trivy else ()))
    names = [INTERNAL_CA, *(f"{stem}.{ext}" for stem in stems for ext in ("crt", "key"))]
    files = []
    for name in names:
        try:
            files.append((name, OperatorFile(folder / name, read_file(folder / name))))
        except OSError as exc:
            r.error("internal_tls.dir", f"{folder / name} cannot be read: "
                    f"{exc.strerror or exc}", "run 'harborctl gencert --internal-tls', or "
                    "give the folder that holds every service's pair")
    _check_internal_pairs(r, dict(files), stems)
    return m.InternalTls(folder, tuple(files))


def _check_internal_pairs(r: YamlReader, files: dict[str, OperatorFile],
                          stems: tuple[str, ...]) -> None:
    """Each service's key belongs to its certificate, which names it and was issued by the
    internal CA: a wrong file fails here, not as a TLS error between two containers."""
    from cryptography.exceptions import InvalidSignature  # only when internal TLS is on

    from harborctl.errors import HarborctlError
    from harborctl.tls.reading import key_matches_cert, load_certificates

    ca = files.get(INTERNAL_CA)
    for stem in stems:
        key, cert = files.get(f"{stem}.key"), files.get(f"{stem}.crt")
        if ca is None or key is None or cert is None:
            continue  # reported as unreadable
        try:
            leaf, issuer = load_certificates(cert.content)[0], load_certificates(ca.content)[0]
            fits = key_matches_cert(key.content, cert.content, trusted=True)
            leaf.verify_directly_issued_by(issuer)
        except (HarborctlError, ValueError, TypeError, InvalidSignature) as exc:
            r.error("internal_tls.dir", f"{cert.path}: not a certificate of {INTERNAL_CA} "
                    f"with its key ({exc})", "run 'harborctl gencert --internal-tls --force'")
            continue
        if not fits:
            r.error("internal_tls.dir", f"{key.path} is not the key of {cert.path}",
                    "run 'harborctl gencert --internal-tls --force'")
