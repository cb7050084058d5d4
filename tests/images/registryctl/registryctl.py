"""TEST FIXTURE: a stand-in for Harbor's registryctl (goharbor/harbor-registryctl), 1.7.5 and
2.15 (HARBORCTL_STANDIN_RELEASE=2, set by Dockerfile.v2).

Contract (as the real service): reads /etc/registryctl/config.yml (protocol, port, log_level;
2.x also registry_config, and https_config.cert/key when the protocol is https), the registry's
configuration and the env CORE_SECRET, JOBSERVICE_SECRET (2.x: INTERNAL_TLS_* with internal TLS,
which must agree with the protocol); storage is /storage (given to uid 10000 like the real start
script does). Serves GET /api/health and POST /api/registry/gc (Harbor-Secret) on the configured
port (8080; 8443 over TLS).
"""

from __future__ import annotations

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

CONFIG_PATH = "/etc/registryctl/config.yml"
REGISTRY_CONFIG_PATH = "/etc/registry/config.yml"
STORAGE = "/storage"


def main() -> None:
    env = standin.require_env("CORE_SECRET", "JOBSERVICE_SECRET")
    # entry.sh gave /storage to uid 10000 and made this process run as it.
    standin.drop_privileges()
    config = standin.load_yaml(CONFIG_PATH, "the registryctl configuration")
    v2 = os.environ.get("HARBORCTL_STANDIN_RELEASE") == "2"
    problems = []
    protocol = config.get("protocol", "http")
    if protocol not in ("http", "https"):
        problems.append(f"protocol {protocol!r} is not http or https")
    https = config.get("https_config") if isinstance(config.get("https_config"), dict) else {}
    if protocol == "https" and not v2:
        problems.append("https is not supported by the 1.7.5 registryctl stand-in")
    if protocol == "https" and not (https.get("cert") and https.get("key")):
        problems.append("protocol https needs https_config.cert and https_config.key")
    port = config.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.append(f"port {port!r} is not a port number")
    registry_path = REGISTRY_CONFIG_PATH
    if v2:
        registry_path = str(config.get("registry_config") or "")
        if not registry_path:
            problems.append("registry_config (the registry's configuration, for GC) is missing")
        tls_on = standin.internal_tls() is not None
        if tls_on != (protocol == "https"):
            problems.append(f"protocol {protocol!r} while INTERNAL_TLS_ENABLED is "
                            f"{'on' if tls_on else 'off'} in registryctl/env")
    if problems:
        standin.die(f"invalid {CONFIG_PATH}: " + "; ".join(problems))
    tls = standin.server_context(str(https["cert"]), str(https["key"]), "registryctl") \
        if protocol == "https" else None
    registry = standin.load_yaml(registry_path, "the registry configuration")
    for section in ("storage", "http"):
        if not isinstance(registry.get(section), dict):
            standin.die(f"the registry configuration {registry_path} has no {section}")

    def gc(handler: standin.Handler) -> None:
        if not handler.has_secret(env["CORE_SECRET"], env["JOBSERVICE_SECRET"]):
            handler.send_error_json(401, "UnAuthorized")
            return
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        handler.send_json(200, {"status": True, "msg": "the registryctl stand-in collects nothing",
                                "starttime": now, "endtime": now})

    standin.serve(int(port), {
        ("GET", "/api/health"): standin.health_route(b"", "text/plain"),
        ("POST", "/api/registry/gc"): gc,
    }, tls=tls)


if __name__ == "__main__":
    main()
