"""TEST FIXTURE: what the stand-ins for Harbor 1.7's and 2.15's core share: the token signing
key, registry tokens (RS256 JWT with a libtrust `kid`, as the registry and the docker client
expect), the database check and the nginx front that carries registry traffic."""

from __future__ import annotations

import base64
import configparser
import datetime
import hashlib
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import standin

ISSUER = "harbor-token-issuer"
ADMIN = "admin"
NGINX_CONF = "/tmp/harborctl-test-core-nginx.conf"


def load_private_key(path: str, pkcs1_only: bool) -> Any:
    """The token signing key. 1.7.5's core loads PKCS#1 only; 2.x's any PEM RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    text = standin.read_text(path, "the token signing key")
    if pkcs1_only and "-----BEGIN RSA PRIVATE KEY-----" not in text:
        if "-----BEGIN PRIVATE KEY-----" in text or "ENCRYPTED PRIVATE KEY" in text:
            standin.die(
                f"the token signing key {path} is PKCS#8 ('BEGIN PRIVATE KEY'); Harbor 1.7.5's "
                "core only loads a PKCS#1 key ('BEGIN RSA PRIVATE KEY'), every docker login "
                "would fail"
            )
        standin.die(f"the token signing key {path} is not a PEM RSA private key (PKCS#1)")
    if "ENCRYPTED" in text:
        standin.die(f"the token signing key {path} is encrypted; core cannot load it")
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


def check_database(host: str, port: int, user: str, password: str, dbname: str,
                   sslmode: str, setup: Callable[[Any], None] | None = None) -> None:
    """Connect with the rendered credentials and run SELECT 1 (then `setup`, if given, with the
    cursor); transient failures are retried, a refused password is fatal at once."""
    import psycopg2

    def attempt() -> None:
        connection = psycopg2.connect(host=host, port=port, user=user, password=password,
                                      dbname=dbname, sslmode=sslmode or "disable",
                                      connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
                if setup is not None:
                    setup(cursor)
            connection.commit()
        finally:
            connection.close()

    def transient(exc: Exception) -> bool:
        text = str(exc)
        permanent = ("password authentication failed", "does not exist", "no pg_hba.conf entry")
        return isinstance(exc, psycopg2.OperationalError) and not any(
            p in text for p in permanent
        )

    where = f"database {dbname} at {host}:{port} as {user}"
    standin.retry(f"connecting to the {where}", attempt, standin.wait_seconds(60), transient)
    standin.log(f"connected to the {where}")


def read_app_conf(path: str, listen_port: int) -> dict[str, str]:
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
    if port is not None and port != str(listen_port):
        standin.die(f"the core app.conf {path} sets httpport = {port}; core listens on "
                    f"{listen_port}")
    return values


# -- the nginx front ------------------------------------------------------------------------


def start_nginx(conf: str, port: int) -> subprocess.Popen[bytes]:
    """Check and run an nginx with this configuration; the container exits when it does."""
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
            standin.die(f"the core's nginx front on :{port} exited with {code}")

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
    """`GET /service/token`: a registry token for the admin, signed with the core's key."""

    def __init__(self, key: Any, check_password: Callable[[str, str], bool],
                 expiration_minutes: int, services: tuple[str, ...]) -> None:
        import jwt

        self.jwt = jwt
        self.key = key
        self.public_key = key.public_key()
        self.kid = libtrust_key_id(self.public_key)
        self.check_password = check_password
        self.expiration = expiration_minutes * 60
        self.services = services

    def handle(self, handler: standin.Handler) -> None:
        query = handler.query
        service = (query.get("service") or [""])[0]
        if service not in self.services:
            handler.send_error_json(400, f"unknown token service {service!r}")
            return
        credentials = handler.basic_auth()
        if credentials is None:
            handler.send_json(401, {"code": 401, "message": "authentication required"},
                              {"WWW-Authenticate": 'Basic realm="harbor"'})
            return
        user, password = credentials
        if not self.check_password(user, password):
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

    def access_of(self, token: str, service: str) -> list[dict[str, Any]] | None:
        """The access list of a token this service issued, or None when it is not one."""
        try:
            claims = self.jwt.decode(token, self.public_key, algorithms=["RS256"],
                                     audience=service, issuer=ISSUER)
        except self.jwt.PyJWTError:
            return None
        access = claims.get("access")
        return access if isinstance(access, list) else []
