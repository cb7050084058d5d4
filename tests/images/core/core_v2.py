"""TEST FIXTURE: a stand-in for Harbor 2.15's core (goharbor/harbor-core:v2.15.x).

Contract (as the real service; harbor2-facts §4.1):
- env (core/env): CONFIG_PATH, EXT_ENDPOINT, CORE_SECRET, JOBSERVICE_SECRET, _REDIS_URL_CORE,
  _REDIS_URL_REG, POSTGRESQL_*, REGISTRY_URL, PORTAL_URL, TOKEN_SERVICE_URL, CORE_URL,
  CORE_LOCAL_URL, JOBSERVICE_URL, REGISTRY_CONTROLLER_URL, TRIVY_ADAPTER_URL, WITH_TRIVY,
  HARBOR_ADMIN_PASSWORD, REGISTRY_CREDENTIAL_USERNAME/_PASSWORD, CSRF_KEY (32 chars), PORT,
  INTERNAL_TLS_* when internal TLS is on (every internal URL is then https);
- files: $CONFIG_PATH (httpport = PORT), /etc/core/private_key.pem (any PEM RSA key),
  /etc/core/key (16 chars);
- the database: HARBOR_ADMIN_PASSWORD is stored at the first start only (later values are
  ignored, as by the real core); redis: both URLs answer;
- the registry accepts the registry credential (registry/passwd is its bcrypt line);
- port PORT (8080, or 8443 with TLS): GET /api/v2.0/ping -> "Pong"; GET /service/token issues
  registry tokens (RS256, libtrust `kid`); /v2/ accepts a token it issued (or the admin's basic
  auth), else answers 401 with a Bearer challenge whose realm is EXT_ENDPOINT/service/token, and
  forwards the request to REGISTRY_URL with the registry credential as basic auth;
  GET /api/v2.0/health asks every service core talks to, through the rendered URLs;
  GET /api/v2.0/internalconfig answers the jobservice, which sends `Harbor-Secret
  <JOBSERVICE_SECRET>` (its own copy of the secret must be core's).

Port PORT is an nginx started here; this program serves the rest on 127.0.0.1:8081.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import sys
import threading
import urllib.parse
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corelib
import standin

KEY_PATH = "/etc/core/key"
PRIVATE_KEY_PATH = "/etc/core/private_key.pem"
NGINX_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core-nginx-v2.conf")
BACKEND_PORT = 8081
REGISTRY_SERVICE = "harbor-registry"
TOKEN_MINUTES = 30
URLS = ("REGISTRY_URL", "PORTAL_URL", "TOKEN_SERVICE_URL", "CORE_URL", "CORE_LOCAL_URL",
        "JOBSERVICE_URL", "REGISTRY_CONTROLLER_URL", "TRIVY_ADAPTER_URL")
REQUIRED = ("CONFIG_PATH", "EXT_ENDPOINT", "CORE_SECRET", "JOBSERVICE_SECRET", "_REDIS_URL_CORE",
            "_REDIS_URL_REG", "POSTGRESQL_HOST", "POSTGRESQL_PORT", "POSTGRESQL_USERNAME",
            "POSTGRESQL_PASSWORD", "POSTGRESQL_DATABASE", "HARBOR_ADMIN_PASSWORD", "WITH_TRIVY",
            "REGISTRY_CREDENTIAL_USERNAME", "REGISTRY_CREDENTIAL_PASSWORD", "CSRF_KEY", "PORT",
            *URLS)
REPOSITORY_PATH = re.compile(r"^/v2/(.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")


def check_env(env: dict[str, str], tls: bool) -> None:
    problems = []
    for name, size in (("CSRF_KEY", 32), ("CORE_SECRET", 16), ("JOBSERVICE_SECRET", 16)):
        if len(env[name]) != size:
            problems.append(f"{name} has {len(env[name])} characters; core needs {size}")
    if env["WITH_TRIVY"] not in ("True", "False"):
        problems.append(f"WITH_TRIVY={env['WITH_TRIVY']!r} is not True or False")
    want_port = "8443" if tls else "8080"
    if env["PORT"] != want_port:
        problems.append(f"PORT={env['PORT']} but core listens on {want_port} with internal TLS "
                        f"{'on' if tls else 'off'}")
    endpoint = urllib.parse.urlsplit(env["EXT_ENDPOINT"])
    if endpoint.scheme not in ("http", "https") or not endpoint.hostname or endpoint.path:
        problems.append(f"EXT_ENDPOINT={env['EXT_ENDPOINT']!r} is not a scheme://host[:port]")
    if problems:
        standin.die("core/env: " + "; ".join(problems))
    for name in URLS:
        standin.check_url(name, env[name], tls)
    for name in ("_REDIS_URL_CORE", "_REDIS_URL_REG"):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(env[name]).query)
        for value in query.get("idle_timeout_seconds", []):
            standin.env_int(f"{name} idle_timeout_seconds", value)


def nginx_conf(env: dict[str, str], tls: tuple[str, str, str] | None) -> str:
    registry = urllib.parse.urlsplit(env["REGISTRY_URL"])
    default_port = 443 if registry.scheme == "https" else 80
    credential = base64.b64encode(
        f"{env['REGISTRY_CREDENTIAL_USERNAME']}:{env['REGISTRY_CREDENTIAL_PASSWORD']}".encode()
    ).decode()
    if tls is None:
        listen = f"listen {env['PORT']};"
        upstream_tls = ""
    else:
        cert, key, ca = tls
        listen = (f"listen {env['PORT']} ssl;\n        ssl_certificate {cert};\n"
                  f"        ssl_certificate_key {key};")
        # the registry's certificate must be one the internal CA signed, for its service name
        upstream_tls = (f"proxy_ssl_trusted_certificate {ca};\n            proxy_ssl_verify on;\n"
                        f"            proxy_ssl_name {registry.hostname};\n"
                        "            proxy_ssl_server_name on;")
    with open(NGINX_TEMPLATE) as handle:
        conf = handle.read()
    for placeholder, value in (("@LISTEN@", listen), ("@UPSTREAM_TLS@", upstream_tls),
                               ("@REGISTRY@", f"{registry.hostname}:"
                                              f"{registry.port or default_port}"),
                               ("@SCHEME@", registry.scheme), ("@CREDENTIAL@", credential),
                               ("@BACKEND@", f"127.0.0.1:{BACKEND_PORT}")):
        conf = conf.replace(placeholder, value)
    return conf


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Admin:
    """The admin's password as the database keeps it: set at the first start only."""

    def __init__(self, initial: str) -> None:
        self.initial = initial
        self.stored = ""

    def setup(self, cursor: Any) -> None:
        cursor.execute("CREATE TABLE IF NOT EXISTS harborctl_standin_admin "
                       "(username text PRIMARY KEY, password_sha256 text NOT NULL)")
        cursor.execute("INSERT INTO harborctl_standin_admin VALUES (%s, %s) "
                       "ON CONFLICT (username) DO NOTHING", (corelib.ADMIN, _digest(self.initial)))
        cursor.execute("SELECT password_sha256 FROM harborctl_standin_admin WHERE username = %s",
                       (corelib.ADMIN,))
        self.stored = str(cursor.fetchone()[0])
        if self.stored != _digest(self.initial):
            standin.log("the admin password is set already: HARBOR_ADMIN_PASSWORD is ignored")

    def check(self, user: str, password: str) -> bool:
        return user == corelib.ADMIN and hmac.compare_digest(_digest(password), self.stored)


def check_registry_credential(env: dict[str, str], ca: str | None) -> None:
    url = env["REGISTRY_URL"] + "/v2/"
    pair = f"{env['REGISTRY_CREDENTIAL_USERNAME']}:{env['REGISTRY_CREDENTIAL_PASSWORD']}"
    headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def attempt() -> None:
        status, _ = standin.http_get(url, headers, ca)
        if status == 401:
            standin.die(f"the registry at {url} refused REGISTRY_CREDENTIAL_USERNAME/_PASSWORD "
                        "(401): registry/passwd does not hold the password of core/env")
        if status != 200:
            raise OSError(f"the registry answered {status}")

    standin.retry(f"reaching the registry at {url}", attempt, standin.wait_seconds(30),
                  lambda exc: isinstance(exc, OSError))
    standin.log(f"the registry at {url} accepts the registry credential")


class Authorizer:
    """nginx's auth_request for /v2/: which requests may reach the registry."""

    def __init__(self, tokens: corelib.TokenService, admin: Admin, endpoint: str) -> None:
        self.tokens = tokens
        self.admin = admin
        self.realm = f"{endpoint}/service/token"

    def handle(self, handler: standin.Handler) -> None:
        uri = urllib.parse.urlsplit(handler.headers.get("X-Original-URI", "")).path
        method = handler.headers.get("X-Original-Method", "GET")
        match = REPOSITORY_PATH.match(uri)
        if match:
            kind, name = "repository", match.group(1)
            action = "pull" if method in ("GET", "HEAD") else "push"
        elif uri == "/v2/_catalog":
            kind, name, action = "registry", "catalog", "*"
        else:
            kind = name = action = ""
        header = handler.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        allowed = False
        if scheme.lower() == "bearer":
            access = self.tokens.access_of(value.strip(), REGISTRY_SERVICE)
            allowed = access is not None and (not kind or any(
                entry.get("type") == kind and entry.get("name") == name
                and action in entry.get("actions", []) for entry in access))
        elif scheme.lower() == "basic":
            credentials = handler.basic_auth()
            allowed = credentials is not None and self.admin.check(*credentials)
        if allowed:
            handler.send(200, b"")
            return
        challenge = f'Bearer realm="{self.realm}",service="{REGISTRY_SERVICE}"'
        if kind:
            challenge += f',scope="{kind}:{name}:{action}"'
        handler.send(401, b"", headers={"WWW-Authenticate": challenge})


def component_checks(env: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(component, URL, headers) core's health API asks, built from the rendered URLs."""
    secret = {"Authorization": f"Harbor-Secret {env['CORE_SECRET']}"}
    pair = f"{env['REGISTRY_CREDENTIAL_USERNAME']}:{env['REGISTRY_CREDENTIAL_PASSWORD']}"
    registry = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    checks = [
        ("portal", env["PORTAL_URL"] + "/", {}),
        ("registry", env["REGISTRY_URL"] + "/v2/", registry),
        ("registryctl", env["REGISTRY_CONTROLLER_URL"] + "/api/health", {}),
        ("jobservice", env["JOBSERVICE_URL"] + "/api/v1/stats", secret),
        ("core", env["CORE_LOCAL_URL"] + "/api/v2.0/ping", {}),
    ]
    if env["WITH_TRIVY"] == "True":
        checks.append(("trivy", env["TRIVY_ADAPTER_URL"] + "/probe/healthy", {}))
    return checks


def main() -> None:
    env = standin.require_env(*REQUIRED)
    # The real core runs as uid 10000: every mounted file must be readable by it.
    standin.drop_privileges()
    tls = standin.internal_tls()
    ca = tls[2] if tls else None
    check_env(env, tls is not None)
    corelib.read_app_conf(env["CONFIG_PATH"], int(env["PORT"]))
    if tls:
        standin.server_context(tls[0], tls[1], "core")
    key = corelib.load_private_key(PRIVATE_KEY_PATH, pkcs1_only=False)
    standin.read_secret_key(KEY_PATH)
    standin.parse_redis_url(env["_REDIS_URL_CORE"], "_REDIS_URL_CORE")
    standin.parse_redis_url(env["_REDIS_URL_REG"], "_REDIS_URL_REG")

    corelib.start_nginx(nginx_conf(env, tls), int(env["PORT"]))
    admin = Admin(env["HARBOR_ADMIN_PASSWORD"])
    corelib.check_database(
        env["POSTGRESQL_HOST"], standin.env_int("POSTGRESQL_PORT", env["POSTGRESQL_PORT"]),
        env["POSTGRESQL_USERNAME"], env["POSTGRESQL_PASSWORD"], env["POSTGRESQL_DATABASE"],
        os.environ.get("POSTGRESQL_SSLMODE", "disable"), admin.setup)
    wait = standin.wait_seconds(30)
    standin.redis_ping(env["_REDIS_URL_CORE"], "_REDIS_URL_CORE", wait)
    standin.redis_ping(env["_REDIS_URL_REG"], "_REDIS_URL_REG", wait)
    check_registry_credential(env, ca)

    tokens = corelib.TokenService(key, admin.check, TOKEN_MINUTES, (REGISTRY_SERVICE,))
    standin.log(f"token signing key id {tokens.kid}")
    authorizer = Authorizer(tokens, admin, env["EXT_ENDPOINT"].rstrip("/"))
    checks = component_checks(env)

    def health(handler: standin.Handler) -> None:
        components = []
        for name, url, headers in checks:
            try:
                status, _ = standin.http_get(url, headers, ca, timeout=3)
                error = "" if status == 200 else f"{url} answered {status}"
            except OSError as exc:
                error = f"{url}: {exc}"
            item = {"name": name, "status": "unhealthy" if error else "healthy"}
            if error:
                item["error"] = error
            components.append(item)
        overall = "healthy" if all(c["status"] == "healthy" for c in components) else "unhealthy"
        handler.send_json(200, {"status": overall, "components": components})

    def systeminfo(handler: standin.Handler) -> None:
        endpoint = urllib.parse.urlsplit(env["EXT_ENDPOINT"])
        handler.send_json(200, {"harbor_version": "v2.15.2-harborctl-test-standin",
                                "registry_url": endpoint.netloc,
                                "external_url": env["EXT_ENDPOINT"],
                                "auth_mode": "db_auth", "with_trivy": env["WITH_TRIVY"] == "True"})

    def current_user(handler: standin.Handler) -> None:
        credentials = handler.basic_auth()
        if credentials is None or not admin.check(*credentials):
            handler.send_error_json(401, "UnAuthorized")
            return
        handler.send_json(200, {"user_id": 1, "username": corelib.ADMIN, "sysadmin_flag": True})

    def internalconfig(handler: standin.Handler) -> None:
        if not handler.has_secret(env["JOBSERVICE_SECRET"]):
            handler.send_error_json(401, "UnAuthorized")
            return
        handler.send_json(200, {"ext_endpoint": {"value": env["EXT_ENDPOINT"]},
                                "with_trivy": {"value": env["WITH_TRIVY"] == "True"}})

    def self_check() -> None:
        """Core calls itself through CORE_LOCAL_URL and TOKEN_SERVICE_URL: both must work."""
        pair = base64.b64encode(f"{corelib.ADMIN}:{env['HARBOR_ADMIN_PASSWORD']}".encode())
        token_url = f"{env['TOKEN_SERVICE_URL']}?service={REGISTRY_SERVICE}"
        for url, headers in ((env["CORE_LOCAL_URL"] + "/api/v2.0/ping", {}),
                             (token_url, {"Authorization": "Basic " + pair.decode()})):
            def attempt(url: str = url, headers: dict[str, str] = headers) -> None:
                status, _ = standin.http_get(url, headers, ca)
                if status not in (200, 401):  # 401: a later password; the URL still works
                    raise OSError(f"{url} answered {status}")

            standin.retry(f"core's own {url}", attempt, 20, lambda exc: isinstance(exc, OSError))

    threading.Thread(target=self_check, daemon=True).start()
    standin.serve(
        BACKEND_PORT,
        {
            ("GET", "/api/v2.0/ping"): standin.health_route(),
            ("GET", "/api/v2.0/health"): health,
            ("GET", "/api/v2.0/internalconfig"): internalconfig,
            ("GET", "/api/v2.0/systeminfo"): systeminfo,
            ("GET", "/api/v2.0/users/current"): current_user,
            ("GET", "/service/token"): tokens.handle,
            ("GET", "/_harbor_auth"): authorizer.handle,
        },
        host="127.0.0.1",
    )


if __name__ == "__main__":
    main()
