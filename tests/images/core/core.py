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

import hmac
import os
import sys
import urllib.parse
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corelib
import standin

KEY_PATH = "/etc/core/key"
PRIVATE_KEY_PATH = "/etc/core/private_key.pem"
CA_PATH = "/etc/core/ca/ca.crt"
NGINX_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core-nginx.conf")
LISTEN_PORT = 8080
BACKEND_PORT = 8081
SERVICES = ("harbor-registry", "harbor-notary")
ADMIN = corelib.ADMIN


# -- inputs -------------------------------------------------------------------------------------


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
    corelib.check_database(
        config["postgresql_host"], int(config["postgresql_port"]),
        config["postgresql_username"], config["postgresql_password"],
        config["postgresql_database"], config.get("postgresql_sslmode") or "disable")


# -- nginx front ----------------------------------------------------------------------------


def start_nginx(registry_url: str) -> None:
    parts = urllib.parse.urlsplit(registry_url)
    if parts.scheme != "http" or not parts.hostname:
        standin.die(f"registry_url {registry_url!r}: the stand-in forwards /v2/ over http only")
    upstream = f"{parts.hostname}:{parts.port or 80}"
    with open(NGINX_TEMPLATE) as handle:
        conf = handle.read()
    conf = conf.replace("@REGISTRY@", upstream).replace("@LISTEN@", str(LISTEN_PORT))
    conf = conf.replace("@BACKEND@", f"127.0.0.1:{BACKEND_PORT}")
    corelib.start_nginx(conf, LISTEN_PORT)


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    env = standin.require_env("CORE_SECRET", "JOBSERVICE_SECRET", "ADMINSERVER_URL",
                              "_REDIS_URL", "_REDIS_URL_REG", "CONFIG_PATH")
    # The real core runs as uid 10000: every mounted file must be readable by it.
    standin.drop_privileges()
    corelib.read_app_conf(env["CONFIG_PATH"], LISTEN_PORT)
    key = corelib.load_private_key(PRIVATE_KEY_PATH, pkcs1_only=True)
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
    admin_password = str(config["admin_initial_password"])

    def check_password(user: str, password: str) -> bool:
        return user == ADMIN and hmac.compare_digest(password.encode(), admin_password.encode())

    tokens = corelib.TokenService(key, check_password, expiration, SERVICES)
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
