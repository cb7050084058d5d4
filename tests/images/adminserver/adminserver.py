"""TEST FIXTURE: a stand-in for Harbor 1.7's adminserver (goharbor/harbor-adminserver).

Contract (as the real service): listens on $PORT (8080); GET /api/ping -> "Pong";
GET /api/configs -> the configuration from the environment as JSON, only with the header
`Authorization: Harbor-Secret <CORE_SECRET or JOBSERVICE_SECRET>`; PUT /api/configurations
updates it. Reads common/config/adminserver/env and the key /etc/adminserver/key (16 chars).
"""

from __future__ import annotations

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

KEY_PATH = "/etc/adminserver/key"

REQUIRED = (
    "EXT_ENDPOINT",
    "AUTH_MODE",
    "POSTGRESQL_HOST",
    "POSTGRESQL_PORT",
    "POSTGRESQL_USERNAME",
    "POSTGRESQL_PASSWORD",
    "POSTGRESQL_DATABASE",
    "HARBOR_ADMIN_PASSWORD",
    "CORE_SECRET",
    "JOBSERVICE_SECRET",
    "TOKEN_EXPIRATION",
    "REGISTRY_URL",
)

# Everything Harbor 1.7's adminserver/env may carry, with the configuration key it becomes
# (None: the lowercased name) and its type.
KNOWN: dict[str, tuple[str | None, str]] = {
    "EXT_ENDPOINT": (None, "str"),
    "AUTH_MODE": (None, "str"),
    "SELF_REGISTRATION": (None, "bool"),
    "LDAP_URL": (None, "str"),
    "LDAP_SEARCH_DN": (None, "str"),
    "LDAP_SEARCH_PWD": ("ldap_search_password", "str"),
    "LDAP_BASE_DN": (None, "str"),
    "LDAP_FILTER": (None, "str"),
    "LDAP_UID": (None, "str"),
    "LDAP_SCOPE": (None, "int"),
    "LDAP_TIMEOUT": (None, "int"),
    "LDAP_VERIFY_CERT": (None, "bool"),
    "LDAP_GROUP_BASEDN": ("ldap_group_base_dn", "str"),
    "LDAP_GROUP_FILTER": ("ldap_group_search_filter", "str"),
    "LDAP_GROUP_GID": ("ldap_group_attribute_name", "str"),
    "LDAP_GROUP_SCOPE": ("ldap_group_search_scope", "int"),
    "LDAP_GROUP_ADMIN_DN": (None, "str"),
    "DATABASE_TYPE": (None, "str"),
    "POSTGRESQL_HOST": (None, "str"),
    "POSTGRESQL_PORT": (None, "int"),
    "POSTGRESQL_USERNAME": (None, "str"),
    "POSTGRESQL_PASSWORD": (None, "str"),
    "POSTGRESQL_DATABASE": (None, "str"),
    "POSTGRESQL_SSLMODE": (None, "str"),
    "REGISTRY_URL": (None, "str"),
    "TOKEN_SERVICE_URL": (None, "str"),
    "EMAIL_HOST": (None, "str"),
    "EMAIL_PORT": (None, "int"),
    "EMAIL_USR": ("email_username", "str"),
    "EMAIL_PWD": ("email_password", "str"),
    "EMAIL_SSL": (None, "bool"),
    "EMAIL_FROM": (None, "str"),
    "EMAIL_IDENTITY": (None, "str"),
    "EMAIL_INSECURE": (None, "bool"),
    "HARBOR_ADMIN_PASSWORD": ("admin_initial_password", "str"),
    "PROJECT_CREATION_RESTRICTION": (None, "str"),
    "MAX_JOB_WORKERS": (None, "int"),
    "TOKEN_EXPIRATION": (None, "int"),
    "CFG_EXPIRATION": (None, "int"),
    "ADMIRAL_URL": ("admiral_url", "str"),
    "WITH_NOTARY": (None, "bool"),
    "WITH_CLAIR": (None, "bool"),
    "WITH_CHARTMUSEUM": (None, "bool"),
    "CLAIR_DB_HOST": (None, "str"),
    "CLAIR_DB_PORT": (None, "int"),
    "CLAIR_DB_USERNAME": (None, "str"),
    "CLAIR_DB_PASSWORD": (None, "str"),
    "CLAIR_DB": (None, "str"),
    "CLAIR_DB_SSLMODE": (None, "str"),
    "UAA_ENDPOINT": (None, "str"),
    "UAA_CLIENTID": ("uaa_client_id", "str"),
    "UAA_CLIENTSECRET": ("uaa_client_secret", "str"),
    "UAA_VERIFY_CERT": (None, "bool"),
    "CORE_URL": (None, "str"),
    "JOBSERVICE_URL": (None, "str"),
    "CLAIR_URL": (None, "str"),
    "NOTARY_URL": (None, "str"),
    "CHART_REPOSITORY_URL": (None, "str"),
    "REGISTRY_CONTROLLER_URL": (None, "str"),
    "REGISTRY_STORAGE_PROVIDER_NAME": (None, "str"),
    "READ_ONLY": (None, "bool"),
}

AUTH_MODES = ("db_auth", "ldap_auth", "uaa_auth")
TRUE = ("true", "on", "1", "yes")
FALSE = ("false", "off", "0", "no", "")


def build_config() -> tuple[dict[str, object], dict[str, str]]:
    env = standin.require_env(*REQUIRED)
    problems: list[str] = []
    config: dict[str, object] = {}
    for name, (key, kind) in KNOWN.items():
        if name not in os.environ:
            continue
        raw = os.environ[name]
        value: object = raw
        if kind == "int":
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name}={raw!r} is not an integer")
        elif kind == "bool":
            if raw.lower() in TRUE:
                value = True
            elif raw.lower() in FALSE:
                value = False
            else:
                problems.append(f"{name}={raw!r} is not a boolean")
        config[key or name.lower()] = value
    if env["AUTH_MODE"] not in AUTH_MODES:
        problems.append(f"AUTH_MODE={env['AUTH_MODE']!r} is not one of {', '.join(AUTH_MODES)}")
    if env["AUTH_MODE"] == "ldap_auth" and not os.environ.get("LDAP_URL"):
        problems.append("AUTH_MODE is ldap_auth but LDAP_URL is empty")
    if env["AUTH_MODE"] == "uaa_auth" and not os.environ.get("UAA_ENDPOINT"):
        problems.append("AUTH_MODE is uaa_auth but UAA_ENDPOINT is empty")
    if not env["EXT_ENDPOINT"].startswith(("http://", "https://")):
        problems.append(f"EXT_ENDPOINT={env['EXT_ENDPOINT']!r} is not an http(s) URL")
    if not env["REGISTRY_URL"].startswith(("http://", "https://")):
        problems.append(f"REGISTRY_URL={env['REGISTRY_URL']!r} is not an http(s) URL")
    if isinstance(config.get("token_expiration"), int) and int(config["token_expiration"]) <= 0:
        problems.append("TOKEN_EXPIRATION must be a positive number of minutes")
    db_type = os.environ.get("DATABASE_TYPE")
    if db_type and db_type != "postgresql":
        problems.append(f"DATABASE_TYPE={db_type!r}: Harbor 1.7 supports only postgresql")
    if problems:
        standin.die("invalid configuration in the environment: " + "; ".join(problems))
    return config, env


def main() -> None:
    port = standin.env_int("PORT", os.environ.get("PORT") or "8080")
    # entry.sh gave the filesystem config store to uid 10000 and made this process run as it.
    standin.drop_privileges()
    config, env = build_config()
    standin.read_secret_key(KEY_PATH)
    lock = threading.Lock()
    secrets = (env["CORE_SECRET"], env["JOBSERVICE_SECRET"])

    def get_configs(handler: standin.Handler) -> None:
        if not handler.has_secret(*secrets):
            handler.send_error_json(401, "UnAuthorized: a Harbor-Secret of core or jobservice")
            return
        with lock:
            handler.send_json(200, config)

    def put_configs(handler: standin.Handler) -> None:
        if not handler.has_secret(*secrets):
            handler.send_error_json(401, "UnAuthorized: a Harbor-Secret of core or jobservice")
            return
        try:
            update = json.loads(handler.body() or b"{}")
        except ValueError:
            handler.send_error_json(400, "the body is not JSON")
            return
        if not isinstance(update, dict):
            handler.send_error_json(400, "the body is not a JSON object")
            return
        with lock:
            config.update(update)
        handler.send(200, b"")

    def reset(handler: standin.Handler) -> None:
        if not handler.has_secret(*secrets):
            handler.send_error_json(401, "UnAuthorized")
            return
        handler.send(200, b"")

    standin.serve(
        port,
        {
            ("GET", "/api/ping"): standin.health_route(),
            ("GET", "/api/configs"): get_configs,
            ("GET", "/api/configurations"): get_configs,
            ("PUT", "/api/configs"): put_configs,
            ("PUT", "/api/configurations"): put_configs,
            ("POST", "/api/configurations/reset"): reset,
        },
    )


if __name__ == "__main__":
    main()
