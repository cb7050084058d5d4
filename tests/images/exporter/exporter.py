"""TEST FIXTURE: a stand-in for Harbor 2.15's exporter (goharbor/harbor-exporter).

Contract (as the real service; harbor2-facts §4.12): env from exporter/env: HARBOR_EXPORTER_PORT
and _METRICS_PATH, HARBOR_SERVICE_HOST/_PORT/_SCHEME (core: its ping must answer there, over TLS
verified by the internal CA from the trust folder), HARBOR_REDIS_URL (must answer),
HARBOR_DATABASE_* (must accept the login). Serves the metrics path on HARBOR_EXPORTER_PORT
(https with INTERNAL_TLS_* set, as the real exporter switches). No health check in the image.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

TRUSTED_CA = "/harbor_cust_cert/harbor_internal_ca.crt"


def check_database(env: dict[str, str]) -> None:
    import psycopg2

    def attempt() -> None:
        connection = psycopg2.connect(
            host=env["HARBOR_DATABASE_HOST"],
            port=standin.env_int("HARBOR_DATABASE_PORT", env["HARBOR_DATABASE_PORT"]),
            user=env["HARBOR_DATABASE_USERNAME"], password=env["HARBOR_DATABASE_PASSWORD"],
            dbname=env["HARBOR_DATABASE_DBNAME"],
            sslmode=os.environ.get("HARBOR_DATABASE_SSLMODE") or "disable", connect_timeout=3)
        connection.close()

    def transient(exc: Exception) -> bool:
        return isinstance(exc, psycopg2.OperationalError) and "password" not in str(exc)

    standin.retry(f"connecting to the database at {env['HARBOR_DATABASE_HOST']}", attempt,
                  standin.wait_seconds(60), transient)


def main() -> None:
    env = standin.require_env(
        "HARBOR_EXPORTER_PORT", "HARBOR_EXPORTER_METRICS_PATH", "HARBOR_SERVICE_HOST",
        "HARBOR_SERVICE_PORT", "HARBOR_SERVICE_SCHEME", "HARBOR_REDIS_URL",
        "HARBOR_DATABASE_HOST", "HARBOR_DATABASE_PORT", "HARBOR_DATABASE_USERNAME",
        "HARBOR_DATABASE_PASSWORD", "HARBOR_DATABASE_DBNAME")
    port = standin.env_int("HARBOR_EXPORTER_PORT", env["HARBOR_EXPORTER_PORT"])
    path = env["HARBOR_EXPORTER_METRICS_PATH"]
    if not path.startswith("/"):
        standin.die(f"HARBOR_EXPORTER_METRICS_PATH={path!r} does not start with /")
    scheme = env["HARBOR_SERVICE_SCHEME"]
    if scheme not in ("http", "https"):
        standin.die(f"HARBOR_SERVICE_SCHEME={scheme!r} is not http or https")
    tls = standin.internal_tls()
    context = standin.server_context(tls[0], tls[1], "exporter") if tls else None
    ca = TRUSTED_CA if scheme == "https" else None
    standin.redis_ping(env["HARBOR_REDIS_URL"], "HARBOR_REDIS_URL", standin.wait_seconds(30))
    check_database(env)
    core = f"{scheme}://{env['HARBOR_SERVICE_HOST']}:{env['HARBOR_SERVICE_PORT']}/api/v2.0/ping"

    def attempt() -> None:
        status, _ = standin.http_get(core, ca=ca)
        if status != 200:
            raise OSError(f"{core} answered {status}")

    standin.retry(f"reaching core at {core}", attempt, standin.wait_seconds(30),
                  lambda exc: isinstance(exc, OSError))

    def metrics(handler: standin.Handler) -> None:
        handler.send(200, b"# harborctl test stand-in of the Harbor exporter\n"
                          b"harbor_up{component=\"core\"} 1\n",
                     "text/plain; version=0.0.4")

    standin.serve(port, {("GET", path): metrics}, tls=context)


if __name__ == "__main__":
    main()
