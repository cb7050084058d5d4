"""TEST FIXTURE: a stand-in for Harbor 1.7's ChartMuseum (goharbor/chartmuseum-photon).

Contract (as the real service, loosely): env PORT (required, 9999), STORAGE (required: local,
amazon, google, microsoft, openstack or alibaba, each with the variables chartmuseum and its
cloud SDK need, see BACKENDS; a STORAGE_<BACKEND>_* variable of another backend is refused),
STORAGE_LOCAL_ROOTDIR (/chart_storage), CACHE (redis), CACHE_REDIS_ADDR, CACHE_REDIS_PASSWORD,
CACHE_REDIS_DB, BASIC_AUTH_USER, BASIC_AUTH_PASS; storage /chart_storage (given to uid 10000);
GOOGLE_APPLICATION_CREDENTIALS, when set, must be a readable JSON key file;
/harbor_cust_cert/custom-ca-bundle.crt, when present, must be a PEM file.
Serves GET /health -> {"healthy": true} and GET /index.yaml (basic auth when configured).
Object storage is checked, not reached: no cloud is reachable from a test host.
"""

from __future__ import annotations

import hmac
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

DEFAULT_STORAGE = "/chart_storage"
CUSTOM_CA = "/harbor_cust_cert/custom-ca-bundle.crt"
# backend -> (variables it cannot start without, variables it also reads)
BACKENDS = {
    "local": (("STORAGE_LOCAL_ROOTDIR",), ()),
    "amazon": (("STORAGE_AMAZON_BUCKET", "STORAGE_AMAZON_REGION"),
               ("STORAGE_AMAZON_PREFIX", "STORAGE_AMAZON_ENDPOINT", "STORAGE_AMAZON_SSE")),
    "google": (("STORAGE_GOOGLE_BUCKET",), ("STORAGE_GOOGLE_PREFIX",)),
    "microsoft": (("STORAGE_MICROSOFT_CONTAINER", "AZURE_STORAGE_ACCOUNT",
                   "AZURE_STORAGE_ACCESS_KEY"), ("STORAGE_MICROSOFT_PREFIX",)),
    "openstack": (("STORAGE_OPENSTACK_CONTAINER", "STORAGE_OPENSTACK_REGION", "OS_AUTH_URL"),
                  ("STORAGE_OPENSTACK_PREFIX", "STORAGE_OPENSTACK_CACERT")),
    "alibaba": (("STORAGE_ALIBABA_BUCKET", "STORAGE_ALIBABA_ENDPOINT"),
                ("STORAGE_ALIBABA_PREFIX", "STORAGE_ALIBABA_SSE")),
}


def check_storage() -> str:
    """STORAGE and its variables, as chartmuseum reads them; die on anything it would refuse
    (or that would silently keep the charts somewhere else)."""
    storage = os.environ.get("STORAGE", "")
    if storage not in BACKENDS:
        standin.die(f"STORAGE {storage!r} is not one of {', '.join(BACKENDS)}"
                    if storage else "STORAGE is not set (chartmuseum needs --storage)")
    required, optional = BACKENDS[storage]
    missing = [name for name in required if not os.environ.get(name)]
    if missing:
        standin.die(f"STORAGE is {storage} but {', '.join(missing)} is not set")
    known = set(required) | set(optional)
    stray = sorted(name for name in os.environ
                   if name.startswith("STORAGE_") and name not in known)
    if stray:
        standin.die(f"STORAGE is {storage}; {', '.join(stray)} belongs to no setting of it")
    credentials = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if credentials:
        text = standin.read_text(credentials, "GOOGLE_APPLICATION_CREDENTIALS")
        try:
            json.loads(text)
        except ValueError:
            standin.die(f"GOOGLE_APPLICATION_CREDENTIALS {credentials} is not a JSON key")
    pem_marker = "-----BEGIN CERTIFICATE-----"
    if os.path.lexists(CUSTOM_CA) and pem_marker not in standin.read_text(CUSTOM_CA, "CA"):
        standin.die(f"{CUSTOM_CA} holds no PEM certificate")
    return storage


def main() -> None:
    env = standin.require_env("PORT")
    port = standin.env_int("PORT", env["PORT"])
    root = os.environ.get("STORAGE_LOCAL_ROOTDIR", DEFAULT_STORAGE)
    # entry.sh gave /chart_storage to uid 10000 and made this process run as it.
    standin.drop_privileges()
    storage = check_storage()
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
