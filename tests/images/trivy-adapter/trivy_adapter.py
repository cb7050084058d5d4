"""TEST FIXTURE: a stand-in for Harbor 2.15's trivy adapter (goharbor/trivy-adapter-photon).

Contract (as the real service; harbor2-facts §4.11): env from trivy-adapter/env: the SCANNER_*
redis URLs (they must answer) and namespaces, the cache and reports folders (writable by uid
10000: the image runs as `scanner` 10000 with no capabilities), the SCANNER_TRIVY_* settings
(booleans written True/False, a Go duration for the timeout); SCANNER_API_SERVER_ADDR and the
TLS pair with internal TLS. Serves GET /probe/healthy, /probe/ready and /api/v1/metadata on
:8080 (:8443 over TLS). Scans nothing.
"""

from __future__ import annotations

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

REDIS = ("SCANNER_REDIS_URL", "SCANNER_STORE_REDIS_URL", "SCANNER_JOB_QUEUE_REDIS_URL")
BOOLEANS = ("SCANNER_TRIVY_IGNORE_UNFIXED", "SCANNER_TRIVY_SKIP_UPDATE",
            "SCANNER_TRIVY_SKIP_JAVA_DB_UPDATE", "SCANNER_TRIVY_OFFLINE_SCAN",
            "SCANNER_TRIVY_INSECURE")
FOLDERS = ("SCANNER_TRIVY_CACHE_DIR", "SCANNER_TRIVY_REPORTS_DIR")
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


def main() -> None:
    env = standin.require_env(*REDIS, *FOLDERS, "SCANNER_STORE_REDIS_NAMESPACE",
                              "SCANNER_JOB_QUEUE_REDIS_NAMESPACE", "SCANNER_TRIVY_TIMEOUT",
                              *BOOLEANS)
    problems = [f"{n}={env[n]!r} is not a boolean" for n in BOOLEANS
                if env[n].lower() not in ("true", "false")]
    if not DURATION.match(env["SCANNER_TRIVY_TIMEOUT"]):
        problems.append(f"SCANNER_TRIVY_TIMEOUT={env['SCANNER_TRIVY_TIMEOUT']!r} is not a "
                        "Go duration")
    address = os.environ.get("SCANNER_API_SERVER_ADDR", ":8080")
    host, _, port_text = address.rpartition(":")
    cert = os.environ.get("SCANNER_API_SERVER_TLS_CERTIFICATE", "")
    key = os.environ.get("SCANNER_API_SERVER_TLS_KEY", "")
    if bool(cert) != bool(key):
        problems.append("SCANNER_API_SERVER_TLS_CERTIFICATE and _KEY come together")
    if problems:
        standin.die("trivy-adapter/env: " + "; ".join(problems))
    port = standin.env_int("SCANNER_API_SERVER_ADDR", port_text)
    tls = standin.server_context(cert, key, "trivy adapter") if cert else None
    for name in FOLDERS:
        standin.check_writable_dir(env[name], name)
    for name in REDIS:
        standin.redis_ping(env[name], name, standin.wait_seconds(30))

    def metadata(handler: standin.Handler) -> None:
        handler.send_json(200, {
            "scanner": {"name": "Trivy", "vendor": "Aqua Security",
                        "version": "harborctl-test-standin"},
            "capabilities": [],
            "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"},
        })

    standin.serve(port, {
        ("GET", "/probe/healthy"): standin.health_route(b""),
        ("GET", "/probe/ready"): standin.health_route(b""),
        ("GET", "/api/v1/metadata"): metadata,
    }, host=host or "0.0.0.0", tls=tls)


if __name__ == "__main__":
    main()
