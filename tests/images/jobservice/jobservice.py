"""TEST FIXTURE: a stand-in for Harbor's jobservice (goharbor/harbor-jobservice), 1.7.5 and 2.15
(HARBORCTL_STANDIN_RELEASE=2, set by Dockerfile.v2).

Contract (as the real service): reads /etc/jobservice/config.yml (protocol, port, worker_pool
with a redis backend, job_loggers, loggers; 1.7.5 also admin_server) and the env CORE_SECRET,
JOBSERVICE_SECRET (CORE_URL optional). 1.7.5: fetches the configuration from the adminserver
with its secret. 2.15: needs CORE_URL, REGISTRY_URL, REGISTRY_CONTROLLER_URL and the registry
credential, checks that the registry accepts it, and that core accepts its JOBSERVICE_SECRET at
CORE_URL/api/v2.0/internalconfig (where the real jobservice reads its settings from); with
INTERNAL_TLS_* the protocol is https with https_config's pair and every URL https (verified
against the internal CA). Connects to the worker pool's redis, writes job logs
under /var/log/jobs. Serves GET /api/v1/stats and POST /api/v1/jobs (Harbor-Secret) on the
configured port (8080; 8443 over TLS).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import standin

CONFIG_PATH = "/etc/jobservice/config.yml"
JOB_LOGS = "/var/log/jobs"


def validate(config: dict[str, Any], v2: bool) -> tuple[int, str, str]:
    """Check the rendered config.yml; return (port, redis URL, adminserver URL)."""
    problems: list[str] = []
    protocol = config.get("protocol")
    if protocol not in ("http", "https"):
        problems.append(f"protocol {protocol!r} is not http or https")
    if protocol == "https":
        https = config.get("https_config") or {}
        for item in ("cert", "key"):
            path = https.get(item) if isinstance(https, dict) else None
            if not path or not os.path.isfile(path):
                problems.append(f"https_config.{item} {path!r} is not a file")
    port = config.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.append(f"port {port!r} is not a port number")
    pool = config.get("worker_pool")
    redis_url = ""
    if not isinstance(pool, dict):
        problems.append("worker_pool is missing")
    else:
        workers = pool.get("workers")
        if not isinstance(workers, int) or workers < 1:
            problems.append(f"worker_pool.workers {workers!r} is not a positive integer")
        if pool.get("backend") != "redis":
            problems.append(f"worker_pool.backend {pool.get('backend')!r} is not redis")
        redis_pool = pool.get("redis_pool")
        if not isinstance(redis_pool, dict):
            problems.append("worker_pool.redis_pool is missing")
        else:
            redis_url = str(redis_pool.get("redis_url") or "")
            if not redis_url:
                problems.append("worker_pool.redis_pool.redis_url is missing")
            if not redis_pool.get("namespace"):
                problems.append("worker_pool.redis_pool.namespace is missing")
    loggers = config.get("job_loggers")
    if not isinstance(loggers, list) or not loggers:
        problems.append("job_loggers is missing")
    else:
        for logger in loggers:
            if isinstance(logger, dict) and str(logger.get("name", "")).upper() == "FILE":
                settings = logger.get("settings") or {}
                base_dir = settings.get("base_dir") if isinstance(settings, dict) else None
                if base_dir != JOB_LOGS:
                    problems.append(f"the FILE job logger writes to {base_dir!r}, not {JOB_LOGS}")
    if not isinstance(config.get("loggers"), list):
        problems.append("loggers is missing")
    admin_server = str(config.get("admin_server") or "")
    if not v2 and not admin_server.startswith(("http://", "https://")):
        problems.append(f"admin_server {admin_server!r} is not an http(s) URL")
    if v2 and admin_server:
        problems.append("admin_server is a 1.7 setting; Harbor 2 has no adminserver")
    if problems:
        standin.die(f"invalid {CONFIG_PATH}: " + "; ".join(problems))
    return int(port), redis_url, admin_server


def check_v2_env(config: dict[str, Any]) -> tuple[str | None, Any]:
    """Harbor 2's env and its agreement with config.yml; return (CA, TLS server context)."""
    env = standin.require_env("CORE_URL", "REGISTRY_URL", "REGISTRY_CONTROLLER_URL",
                              "REGISTRY_CREDENTIAL_USERNAME", "REGISTRY_CREDENTIAL_PASSWORD")
    tls = standin.internal_tls()
    https = config.get("protocol") == "https"
    if https != (tls is not None):
        standin.die(f"{CONFIG_PATH} says protocol {config.get('protocol')!r} while "
                    f"INTERNAL_TLS_ENABLED is {'on' if tls else 'off'} in jobservice/env")
    for name in ("CORE_URL", "REGISTRY_URL", "REGISTRY_CONTROLLER_URL"):
        standin.check_url(name, env[name], tls is not None)
    ca = tls[2] if tls else None
    context = None
    if https:
        pair = config["https_config"]
        context = standin.server_context(str(pair["cert"]), str(pair["key"]), "jobservice")
    url = env["REGISTRY_URL"].rstrip("/") + "/v2/"
    credential = f"{env['REGISTRY_CREDENTIAL_USERNAME']}:{env['REGISTRY_CREDENTIAL_PASSWORD']}"
    headers = {"Authorization": "Basic " + base64.b64encode(credential.encode()).decode()}

    def attempt() -> None:
        status, _ = standin.http_get(url, headers, ca)
        if status == 401:
            standin.die(f"the registry at {url} refused REGISTRY_CREDENTIAL_USERNAME/_PASSWORD "
                        "of jobservice/env (401)")
        if status != 200:
            raise OSError(f"the registry answered {status}")

    standin.retry(f"reaching the registry at {url}", attempt, standin.wait_seconds(30),
                  lambda exc: isinstance(exc, OSError))
    check_core_accepts_the_secret(env["CORE_URL"], ca)
    return ca, context


def check_core_accepts_the_secret(core_url: str, ca: str | None) -> None:
    """Harbor 2's jobservice reads its settings from core with `Harbor-Secret
    <JOBSERVICE_SECRET>`: core must know the same secret (core/env and jobservice/env)."""
    url = core_url.rstrip("/") + "/api/v2.0/internalconfig"
    headers = {"Authorization": f"Harbor-Secret {os.environ['JOBSERVICE_SECRET']}"}

    def attempt() -> None:
        status, _ = standin.http_get(url, headers, ca)
        if status == 401:
            standin.die(f"core at {url} refused JOBSERVICE_SECRET (401): jobservice/env and "
                        "core/env carry different secrets")
        if status != 200:
            raise OSError(f"core answered {status}")

    standin.retry(f"reading the settings from core at {url}", attempt, standin.wait_seconds(30),
                  lambda exc: isinstance(exc, OSError))
    standin.log(f"core at {url} accepts JOBSERVICE_SECRET")


def main() -> None:
    env = standin.require_env("CORE_SECRET", "JOBSERVICE_SECRET")
    v2 = os.environ.get("HARBORCTL_STANDIN_RELEASE") == "2"
    core_url = os.environ.get("CORE_URL")
    if core_url is not None and not core_url.startswith(("http://", "https://")):
        standin.die(f"CORE_URL={core_url!r} is not an http(s) URL")
    # entry.sh gave the job log directory to uid 10000 and made this process run as it.
    standin.drop_privileges()
    config = standin.load_yaml(CONFIG_PATH, "the jobservice configuration")
    port, redis_url, admin_server = validate(config, v2)
    standin.check_writable_dir(JOB_LOGS, "the job log directory")
    standin.redis_ping(redis_url, "worker_pool.redis_pool.redis_url", standin.wait_seconds(30))
    tls = None
    if v2:
        _, tls = check_v2_env(config)
    else:
        standin.fetch_adminserver_configs(admin_server, env["JOBSERVICE_SECRET"],
                                          "JOBSERVICE_SECRET", "jobservice/env")
    secrets_allowed = (env["CORE_SECRET"], env["JOBSERVICE_SECRET"])
    jobs: dict[str, dict[str, Any]] = {}

    def stats(handler: standin.Handler) -> None:
        if standin.fail_health():
            handler.send(500, b"failing on purpose (HARBORCTL_TEST_FAIL_HEALTH=1)")
            return
        if not handler.has_secret(*secrets_allowed):
            handler.send_error_json(401, "UnAuthorized")
            return
        handler.send_json(200, {"pools": [{"status": "Healthy", "concurrency":
                                           config["worker_pool"]["workers"]}]})

    def submit(handler: standin.Handler) -> None:
        if not handler.has_secret(*secrets_allowed):
            handler.send_error_json(401, "UnAuthorized")
            return
        try:
            request = json.loads(handler.body() or b"{}")
        except ValueError:
            handler.send_error_json(400, "the body is not JSON")
            return
        job_id = secrets.token_hex(12)
        name = request.get("job", {}).get("name", "unknown") if isinstance(request, dict) else ""
        with open(os.path.join(JOB_LOGS, f"{job_id}.log"), "w") as log:
            log.write(f"job {name} accepted by the jobservice stand-in; nothing is run\n")
        jobs[job_id] = {"id": job_id, "name": name, "status": "Success"}
        handler.send_json(202, {"job": jobs[job_id]})

    standin.serve(port, {("GET", "/api/v1/stats"): stats, ("POST", "/api/v1/jobs"): submit},
                  tls=tls)


if __name__ == "__main__":
    main()
