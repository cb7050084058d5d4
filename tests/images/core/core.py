"""TEST FIXTURE: a stand-in for Harbor 1.7's core (goharbor/harbor-core).

Contract (as the real service):
- env: CORE_SECRET, JOBSERVICE_SECRET, ADMINSERVER_URL, _REDIS_URL, _REDIS_URL_REG, CONFIG_PATH;
- files: $CONFIG_PATH (/etc/core/app.conf), /etc/core/private_key.pem (PKCS#1 only, like the
  1.7.5 core), /etc/core/key (16 chars), optionally /etc/core/ca/ca.crt;
- fetches its configuration from the adminserver, checks the database and redis with it;
- port 8080: GET /api/ping -> "Pong"; GET /service/token issues registry tokens (RS256 JWT signed
  with the private key, libtrust `kid`); /v2/ goes unchanged to the registry (REGISTRY_URL).

Port 8080 is an nginx started here; this program serves the rest on 127.0.0.1:8081. If either of
them exits, the container exits.
"""

from __future__ import annotations

import base64
import configparser
import datetime
import hashlib
import hmac
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

KEY_PATH = "/etc/core/key"
PRIVATE_KEY_PATH = "/etc/core/private_key.pem"
CA_PATH = "/etc/core/ca/ca.crt"
NGINX_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core-nginx.conf")
NGINX_CONF = "/tmp/harborctl-test-core-nginx.conf"
LISTEN_PORT = 8080
BACKEND_PORT = 8081
ISSUER = "harbor-token-issuer"
SERVICES = ("harbor-registry", "harbor-notary")
ADMIN = "admin"


# -- inputs -------------------------------------------------------------------------------------


def read_app_conf(path: str) -> dict[str, str]:
    """beego's ini: keys before any section, then sections; return every key, flattened."""
    text = standin.read_text(path, "the core app.conf (CONFIG_PATH)")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string("[harborctl-top]\n" + text)
    except configparser.Error as exc:
        standin.die(f"the core app.conf {path} cannot be parsed: {exc}")
    values: dict[str, str] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            values.setdefault(key.lower(), value.strip().strip('"'))
    port = values.get("httpport")
    if port is not None and port != str(LISTEN_PORT):
        standin.die(f"the core app.conf {path} sets httpport = {port}; Harbor's core uses 8080")
    return values


def load_private_key(path: str) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    text = standin.read_text(path, "the token signing key")
    if "-----BEGIN RSA PRIVATE KEY-----" not in text:
        if "-----BEGIN PRIVATE KEY-----" in text or "ENCRYPTED PRIVATE KEY" in text:
            standin.die(
                f"the token signing key {path} is PKCS#8 ('BEGIN PRIVATE KEY'); Harbor 1.7.5's "
                "core only loads a PKCS#1 key ('BEGIN RSA PRIVATE KEY'), every docker login "
                "would fail"
            )
        standin.die(f"the token signing key {path} is not a PEM RSA private key (PKCS#1)")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        standin.die(f"the token signing key {path} cannot be loaded: {exc}")
    if not isinstance(key, rsa.RSAPrivateKey):
        standin.die(f"the token signing key {path} is not an RSA key")
    return key


def libtrust_key_id(public_key: Any) -> str:
    """The key ID docker/libtrust derives from a public key, which the registry matches."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, 48, 4))


def fetch_config(adminserver_url: str, secret: str) -> dict[str, Any]:
    if not adminserver_url.startswith(("http://", "https://")):
        standin.die(f"ADMINSERVER_URL={adminserver_url!r} is not an http(s) URL")
    url = adminserver_url.rstrip("/") + "/api/configs"
    config = standin.fetch_adminserver_configs(adminserver_url, secret, "CORE_SECRET",
                                               "core/env")
    if not isinstance(config, dict):
        standin.die(f"the adminserver at {url} answered something that is not a JSON object")
    needed = ("ext_endpoint", "admin_initial_password", "token_expiration", "registry_url",
              "postgresql_host", "postgresql_port", "postgresql_username",
              "postgresql_password", "postgresql_database")
    missing = [k for k in needed if config.get(k) in (None, "")]
    if missing:
        standin.die(f"the adminserver's configuration lacks {', '.join(missing)}")
    return config


def check_database(config: dict[str, Any]) -> None:
    import psycopg2

    def attempt() -> None:
        connection = psycopg2.connect(
            host=config["postgresql_host"], port=int(config["postgresql_port"]),
            user=config["postgresql_username"], password=config["postgresql_password"],
            dbname=config["postgresql_database"],
            sslmode=config.get("postgresql_sslmode") or "disable", connect_timeout=3,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            connection.close()

    def transient(exc: Exception) -> bool:
        text = str(exc)
        permanent = ("password authentication failed", "does not exist", "no pg_hba.conf entry")
        return isinstance(exc, psycopg2.OperationalError) and not any(
            p in text for p in permanent
        )

    where = (f"database {config['postgresql_database']} at {config['postgresql_host']}:"
             f"{config['postgresql_port']} as {config['postgresql_username']}")
    standin.retry(f"connecting to the {where}", attempt, standin.wait_seconds(60), transient)
    standin.log(f"connected to the {where}")


# -- nginx front ----------------------------------------------------------------------------


def start_nginx(registry_url: str) -> subprocess.Popen[bytes]:
    parts = urllib.parse.urlsplit(registry_url)
    if parts.scheme != "http" or not parts.hostname:
        standin.die(f"registry_url {registry_url!r}: the stand-in forwards /v2/ over http only")
    upstream = f"{parts.hostname}:{parts.port or 80}"
    with open(NGINX_TEMPLATE) as handle:
        conf = handle.read()
    conf = conf.replace("@REGISTRY@", upstream).replace("@LISTEN@", str(LISTEN_PORT))
    conf = conf.replace("@BACKEND@", f"127.0.0.1:{BACKEND_PORT}")
    with open(NGINX_CONF, "w") as handle:
        handle.write(conf)
    check = subprocess.run(["nginx", "-t", "-q", "-e", "stderr", "-c", NGINX_CONF],
                           capture_output=True, text=True)
    if check.returncode != 0:
        standin.die(f"the core's nginx front does not accept its configuration: {check.stderr}")
    process = subprocess.Popen(["nginx", "-e", "stderr", "-c", NGINX_CONF])

    def watch() -> None:
        code = process.wait()
        time.sleep(0.3)  # on `docker stop` nginx and this program get SIGTERM together
        if not standin.STOPPING.is_set():
            standin.die(f"the core's nginx front on :{LISTEN_PORT} exited with {code}")

    threading.Thread(target=watch, daemon=True).start()

    def stop(signum: int, frame: Any) -> None:
        standin.STOPPING.set()
        process.terminate()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    return process


# -- token service ------------------------------------------------------------------------------


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """`repository:library/app:pull,push` -> ("repository", "library/app", ["pull", "push"])."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


class TokenService:
    def __init__(self, key: Any, admin_password: str, expiration_minutes: int) -> None:
        import jwt

        self.jwt = jwt
        self.key = key
        self.kid = libtrust_key_id(key.public_key())
        self.admin_password = admin_password
        self.expiration = expiration_minutes * 60

    def handle(self, handler: standin.Handler) -> None:
        query = handler.query
        service = (query.get("service") or [""])[0]
        if service not in SERVICES:
            handler.send_error_json(400, f"unknown token service {service!r}")
            return
        credentials = handler.basic_auth()
        if credentials is None:
            handler.send_json(401, {"code": 401, "message": "authentication required"},
                              {"WWW-Authenticate": 'Basic realm="harbor"'})
            return
        user, password = credentials
        if user != ADMIN or not hmac.compare_digest(password.encode(),
                                                    self.admin_password.encode()):
            handler.send_json(401, {"code": 401, "message": "invalid user name or password"},
                              {"WWW-Authenticate": 'Basic realm="harbor"'})
            return
        access = []
        for value in query.get("scope", []):
            for scope in value.split():
                parsed = parse_scope(scope)
                if parsed is None:
                    continue
                kind, name, actions = parsed
                if kind == "repository" or (kind == "registry" and name == "catalog"):
                    access.append({"type": kind, "name": name, "actions": actions})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": service,
            "exp": now + self.expiration,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        token = self.jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        if isinstance(token, bytes):
            token = token.decode()
        issued = datetime.datetime.fromtimestamp(now, datetime.UTC)
        handler.send_json(200, {
            "token": token,
            "access_token": token,
            "expires_in": self.expiration,
            "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    env = standin.require_env("CORE_SECRET", "JOBSERVICE_SECRET", "ADMINSERVER_URL",
                              "_REDIS_URL", "_REDIS_URL_REG", "CONFIG_PATH")
    # The real core runs as uid 10000: every mounted file must be readable by it.
    standin.drop_privileges()
    read_app_conf(env["CONFIG_PATH"])
    key = load_private_key(PRIVATE_KEY_PATH)
    standin.read_secret_key(KEY_PATH)
    standin.parse_redis_url(env["_REDIS_URL"], "_REDIS_URL")
    standin.parse_redis_url(env["_REDIS_URL_REG"], "_REDIS_URL_REG")

    config = fetch_config(env["ADMINSERVER_URL"], env["CORE_SECRET"])
    start_nginx(str(config["registry_url"]))
    check_database(config)
    wait = standin.wait_seconds(30)
    standin.redis_ping(env["_REDIS_URL"], "_REDIS_URL", wait)
    standin.redis_ping(env["_REDIS_URL_REG"], "_REDIS_URL_REG", wait)

    try:
        expiration = int(config["token_expiration"])
    except (TypeError, ValueError):
        standin.die(f"token_expiration {config['token_expiration']!r} is not a number")
    tokens = TokenService(key, str(config["admin_initial_password"]), expiration)
    standin.log(f"token signing key id {tokens.kid}")
    notifications = {"count": 0}

    def systeminfo(handler: standin.Handler) -> None:
        endpoint = urllib.parse.urlsplit(str(config["ext_endpoint"]))
        handler.send_json(200, {
            "harbor_version": "v1.7.5-harborctl-test-standin",
            "auth_mode": config.get("auth_mode", "db_auth"),
            "self_registration": config.get("self_registration", False),
            "project_creation_restriction": config.get("project_creation_restriction",
                                                       "everyone"),
            "registry_url": endpoint.netloc,
            "has_ca_root": os.path.exists(CA_PATH),
            "with_notary": config.get("with_notary", False),
            "with_clair": config.get("with_clair", False),
            "with_chartmuseum": config.get("with_chartmuseum", False),
        })

    def getcert(handler: standin.Handler) -> None:
        try:
            with open(CA_PATH, "rb") as handle:
                data = handle.read()
        except OSError:
            handler.send_error_json(404, f"no CA certificate at {CA_PATH}")
            return
        handler.send(200, data, "application/octet-stream",
                     {"Content-Disposition": "attachment; filename=ca.crt"})

    def notification(handler: standin.Handler) -> None:
        handler.body()
        notifications["count"] += 1
        handler.send(200, b"")

    def admin_ok(handler: standin.Handler) -> bool:
        credentials = handler.basic_auth()
        return credentials is not None and credentials[0] == ADMIN and hmac.compare_digest(
            credentials[1].encode(), str(config["admin_initial_password"]).encode())

    def current_user(handler: standin.Handler) -> None:
        if not admin_ok(handler):
            handler.send_error_json(401, "UnAuthorized")
            return
        handler.send_json(200, {"user_id": 1, "username": ADMIN, "has_admin_role": True})

    def login(handler: standin.Handler) -> None:
        form = urllib.parse.parse_qs(handler.body().decode(errors="replace"))
        user = (form.get("principal") or [""])[0]
        password = (form.get("password") or [""])[0]
        if user == ADMIN and hmac.compare_digest(
                password.encode(), str(config["admin_initial_password"]).encode()):
            handler.send(200, b"")
        else:
            handler.send_error_json(401, "invalid user name or password")

    standin.serve(
        BACKEND_PORT,
        {
            ("GET", "/api/ping"): standin.health_route(),
            ("GET", "/service/token"): tokens.handle,
            ("GET", "/api/systeminfo"): systeminfo,
            ("GET", "/api/systeminfo/getcert"): getcert,
            ("POST", "/service/notifications"): notification,
            ("GET", "/api/users/current"): current_user,
            ("POST", "/c/login"): login,
            ("POST", "/login"): login,
        },
        host="127.0.0.1",
    )


if __name__ == "__main__":
    main()
