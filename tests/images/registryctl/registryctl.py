"""TEST FIXTURE: a stand-in for Harbor 1.7's registryctl (goharbor/harbor-registryctl).

Contract (as the real service): reads /etc/registryctl/config.yml (protocol, port, log_level),
the registry's /etc/registry/config.yml and the env CORE_SECRET, JOBSERVICE_SECRET; storage is
/storage (given to uid 10000 like the real start script does). Serves GET /api/health and
POST /api/registry/gc (Harbor-Secret) on the configured port (8080).
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
    problems = []
    if config.get("protocol", "http") not in ("http", "https"):
        problems.append(f"protocol {config.get('protocol')!r} is not http or https")
    if config.get("protocol") == "https":
        problems.append("https is not supported by the registryctl stand-in")
    port = config.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.append(f"port {port!r} is not a port number")
    if problems:
        standin.die(f"invalid {CONFIG_PATH}: " + "; ".join(problems))
    registry = standin.load_yaml(REGISTRY_CONFIG_PATH, "the registry configuration")
    for section in ("storage", "http"):
        if not isinstance(registry.get(section), dict):
            standin.die(f"the registry configuration {REGISTRY_CONFIG_PATH} has no {section}")

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
    })


if __name__ == "__main__":
    main()
