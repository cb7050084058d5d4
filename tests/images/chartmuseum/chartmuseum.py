"""TEST FIXTURE: a stand-in for Harbor 1.7's ChartMuseum (goharbor/chartmuseum-photon).

Contract (as the real service, loosely): env PORT (required, 9999), STORAGE (local),
STORAGE_LOCAL_ROOTDIR (/chart_storage), CACHE (redis), CACHE_REDIS_ADDR, CACHE_REDIS_PASSWORD,
CACHE_REDIS_DB, BASIC_AUTH_USER, BASIC_AUTH_PASS; storage /chart_storage (given to uid 10000).
Serves GET /health -> {"healthy": true} and GET /index.yaml (basic auth when configured).
"""

from __future__ import annotations

import hmac
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin  # noqa: E402

DEFAULT_STORAGE = "/chart_storage"


def main() -> None:
    env = standin.require_env("PORT")
    port = standin.env_int("PORT", env["PORT"])
    storage = os.environ.get("STORAGE", "local")
    root = os.environ.get("STORAGE_LOCAL_ROOTDIR", DEFAULT_STORAGE)
    # entry.sh gave /chart_storage to uid 10000 and made this process run as it.
    standin.drop_privileges()
    if storage == "local":
        standin.check_writable_dir(root, "the chart storage (STORAGE_LOCAL_ROOTDIR)")
    if os.environ.get("CACHE") == "redis":
        address = os.environ.get("CACHE_REDIS_ADDR")
        if not address:
            standin.die("CACHE is redis but CACHE_REDIS_ADDR is not set")
        password = os.environ.get("CACHE_REDIS_PASSWORD", "")
        db = os.environ.get("CACHE_REDIS_DB", "0")
        standin.redis_ping(f"{address},100,{password},{db}", "CACHE_REDIS_ADDR",
                           standin.wait_seconds(30))
    user = os.environ.get("BASIC_AUTH_USER", "")
    password = os.environ.get("BASIC_AUTH_PASS", "")

    def index(handler: standin.Handler) -> None:
        if user:
            credentials = handler.basic_auth()
            if credentials is None or credentials[0] != user or not hmac.compare_digest(
                    credentials[1].encode(), password.encode()):
                handler.send_json(401, {"error": "unauthorized"},
                                  {"WWW-Authenticate": 'Basic realm="ChartMuseum"'})
                return
        handler.send(200, b"apiVersion: v1\nentries: {}\n", "application/x-yaml")

    standin.serve(port, {
        ("GET", "/health"): standin.health_route(b'{"healthy":true}', "application/json"),
        ("GET", "/index.yaml"): index,
    })


if __name__ == "__main__":
    main()
