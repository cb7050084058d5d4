"""Shared helpers of harborctl's test stand-ins for Harbor's Go services.

TEST FIXTURE: these programs only play Harbor's services in harborctl's tests. They honour the
same contract as the real services (ports, mounted paths, environment) and fail loudly — a sentence
on stderr and a non-zero exit — when an input that harborctl renders is missing or wrong.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import pwd
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn

NAME = os.path.basename(sys.argv[0]).removesuffix(".py") or "standin"
HARBOR_UID = 10000
HARBOR_GID = 10000


STOPPING = threading.Event()


def _stop(signum: int, frame: Any) -> None:
    """`docker stop`: leave at once, successfully (tini forwards the signal)."""
    STOPPING.set()
    sys.stdout.flush()
    os._exit(0)


signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGINT, _stop)


def log(message: str) -> None:
    print(f"{NAME}: {message}", file=sys.stderr, flush=True)


def die(message: str, code: int = 1) -> NoReturn:
    """Fail loudly: one sentence on stderr, a non-zero exit."""
    log(f"FATAL: {message}")
    sys.stdout.flush()
    os._exit(code)


def fail_health() -> bool:
    """Tests set HARBORCTL_TEST_FAIL_HEALTH=1 to make the health endpoint answer 500 forever."""
    return os.environ.get("HARBORCTL_TEST_FAIL_HEALTH") == "1"


def require_env(*names: str) -> dict[str, str]:
    """The values of the named environment variables; die naming every missing one."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        die(
            f"required environment variable(s) {', '.join(missing)} not set "
            "(they come from the env file harborctl renders for this service)"
        )
    return {n: os.environ[n] for n in names}


def env_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        die(f"{name}={value!r} is not an integer")


def read_text(path: str, what: str) -> str:
    """A mounted file's content; die when it is missing, unreadable or empty."""
    if not os.path.exists(path):
        die(f"{what} {path} is missing (it should be mounted from the rendered configuration)")
    if os.path.isdir(path):
        die(f"{what} {path} is a directory, not a file (a bind mount of a missing host file?)")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except PermissionError:
        die(f"{what} {path} is not readable by uid {os.geteuid()} (check its owner and mode)")
    except (OSError, UnicodeDecodeError) as exc:
        die(f"cannot read {what} {path}: {exc}")
    if not text.strip():
        die(f"{what} {path} is empty")
    return text


def read_secret_key(path: str) -> str:
    """Harbor's secretkey: exactly 16 characters (an AES-128 key), no trailing newline."""
    key = read_text(path, "the secret key")
    if len(key.encode()) != 16:
        die(f"the secret key {path} has {len(key.encode())} bytes; Harbor needs exactly 16")
    return key


def load_yaml(path: str, what: str) -> dict[str, Any]:
    import yaml

    text = read_text(path, what)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        die(f"{what} {path} is not valid YAML: {exc}")
    if not isinstance(data, dict):
        die(f"{what} {path} is not a YAML mapping")
    return data


def drop_privileges(uid: int = HARBOR_UID, gid: int = HARBOR_GID) -> None:
    """Continue as the service user (the real images run their services as uid 10000)."""
    if os.geteuid() != 0:
        return
    try:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    except OSError as exc:
        die(f"cannot switch to uid {uid}: {exc} (the container needs the SETUID/SETGID caps)")
    try:
        os.environ["HOME"] = pwd.getpwuid(uid).pw_dir
    except KeyError:
        os.environ["HOME"] = "/"


def check_writable_dir(path: str, what: str) -> None:
    if not os.path.isdir(path):
        die(f"{what} {path} does not exist")
    probe = os.path.join(path, f".harborctl-test-probe-{os.getpid()}")
    try:
        with open(probe, "w") as handle:
            handle.write("probe\n")
        os.unlink(probe)
    except OSError as exc:
        die(f"{what} {path} is not writable by uid {os.geteuid()}: {exc}")


def retry(what: str, attempt: Callable[[], Any], timeout: float,
          transient: Callable[[Exception], bool] = lambda exc: True) -> Any:
    """Call attempt() until it succeeds; die after `timeout` s or at once on a permanent error."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    announced = False
    while True:
        try:
            return attempt()
        except Exception as exc:  # each caller tells transient from permanent
            if not transient(exc):
                die(f"{what} failed: {exc}")
            if time.monotonic() >= deadline:
                die(f"{what} still failing after {timeout:.0f} s: {exc}")
            if not announced:
                log(f"{what}: {exc}; retrying for up to {timeout:.0f} s")
                announced = True
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)


def wait_seconds(default: float) -> float:
    """How long to wait for a dependency (HARBORCTL_TEST_WAIT overrides the default)."""
    value = os.environ.get("HARBORCTL_TEST_WAIT")
    return float(value) if value else default


# -- redis ------------------------------------------------------------------------------------


def parse_redis_url(value: str, what: str) -> dict[str, Any]:
    """Either redis://[:password@]host[:port][/db] or Harbor's host:port[,pool[,password[,db]]]."""
    try:
        if value.startswith(("redis://", "rediss://")):
            url = urllib.parse.urlsplit(value)
            db_text = url.path.lstrip("/") or "0"
            return {
                "host": url.hostname or "",
                "port": url.port or 6379,
                "password": urllib.parse.unquote(url.password) if url.password else None,
                "db": int(db_text),
            }
        fields = value.split(",")
        host, _, port = fields[0].partition(":")
        password = fields[2] if len(fields) > 2 and fields[2] else None
        db = int(fields[3]) if len(fields) > 3 and fields[3] else 0
        if len(fields) > 1 and fields[1]:
            int(fields[1])  # the pool size
        return {"host": host, "port": int(port or 6379), "password": password, "db": db}
    except ValueError as exc:
        die(f"{what} {value!r} is not a redis address: {exc}")


def redis_ping(value: str, what: str, timeout: float) -> None:
    """Connect to redis with a rendered address and credentials; die if that cannot work."""
    import redis

    spec = parse_redis_url(value, what)
    if not spec["host"]:
        die(f"{what} {value!r} names no host")

    def attempt() -> None:
        client = redis.Redis(
            host=spec["host"], port=spec["port"], password=spec["password"], db=spec["db"],
            socket_timeout=3, socket_connect_timeout=3,
        )
        try:
            client.ping()
        finally:
            client.close()

    def transient(exc: Exception) -> bool:
        return isinstance(exc, redis.ConnectionError | redis.TimeoutError) and not isinstance(
            exc, redis.AuthenticationError
        )

    retry(f"connecting to redis at {spec['host']}:{spec['port']} db {spec['db']} ({what})",
          attempt, timeout, transient)


# -- TLS (Harbor 2's internal_tls) ---------------------------------------------------------------


def server_context(cert: str, key: str, what: str) -> ssl.SSLContext:
    """A TLS server context from a rendered certificate and key; die if they do not load."""
    read_text(cert, f"the {what} certificate")
    read_text(key, f"the {what} private key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        die(f"the {what} certificate {cert} and key {key} do not load as a pair: {exc}")
    return context


def internal_tls(prefix: str = "INTERNAL_TLS") -> tuple[str, str, str] | None:
    """(cert, key, trusted CA) when the env turns internal TLS on; every file must be readable."""
    if os.environ.get(f"{prefix}_ENABLED", "").lower() != "true":
        return None
    env = require_env(f"{prefix}_CERT_PATH", f"{prefix}_KEY_PATH", f"{prefix}_TRUST_CA_PATH")
    cert, key, ca = (env[f"{prefix}_{n}"] for n in ("CERT_PATH", "KEY_PATH", "TRUST_CA_PATH"))
    read_text(ca, "the internal CA certificate")
    return cert, key, ca


def client_context(ca: str | None) -> ssl.SSLContext:
    """Verify servers against the internal CA (when given) besides the system's roots."""
    context = ssl.create_default_context()
    if ca:
        try:
            context.load_verify_locations(ca)
        except (ssl.SSLError, OSError) as exc:
            die(f"the internal CA {ca} does not load: {exc}")
    return context


def http_get(url: str, headers: dict[str, str] | None = None, ca: str | None = None,
             timeout: float = 5) -> tuple[int, bytes]:
    """(status, body) of a GET; an HTTP error status is an answer, not an exception."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {})
    context = client_context(ca) if url.startswith("https://") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_url(name: str, value: str, tls: bool) -> str:
    """An internal URL from the env: http(s), and https exactly when internal TLS is on."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        die(f"{name}={value!r} is not an http(s) URL")
    if (parts.scheme == "https") != tls:
        state = "on" if tls else "off"
        die(f"{name}={value!r} uses {parts.scheme} while internal TLS is {state}")
    return value.rstrip("/")


# -- HTTP ---------------------------------------------------------------------------------------


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"harborctl-test-{NAME}"
    routes: dict[tuple[str, str], Route] = {}

    @property
    def route_path(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(data).encode(), "application/json", headers)

    def send_error_json(self, status: int, message: str) -> None:
        self.send_json(status, {"code": status, "message": message})

    def has_secret(self, *secrets: str) -> bool:
        """Harbor's service-to-service auth: `Authorization: Harbor-Secret <secret>`."""
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme != "Harbor-Secret" or not value:
            return False
        return any(s and hmac.compare_digest(value.strip(), s) for s in secrets)

    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    def dispatch(self) -> None:
        route = self.routes.get((self.command, self.route_path))
        if route is None and self.command == "HEAD":
            route = self.routes.get(("GET", self.route_path))
        if route is None:
            self.send_error_json(404, f"{self.route_path} is not served by the {NAME} stand-in")
            return
        try:
            route(self)
        except Exception as exc:  # a bug in a stand-in must show, not hang the client
            log(f"error serving {self.command} {self.path}: {exc!r}")
            self.send_error_json(500, f"stand-in error: {exc}")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = dispatch

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("HARBORCTL_TEST_QUIET") != "1":
            log(f"{self.address_string()} {format % args}")


def serve(port: int, routes: dict[tuple[str, str], Route], host: str = "0.0.0.0",
          tls: ssl.SSLContext | None = None) -> NoReturn:
    handler = type("RouteHandler", (Handler,), {"routes": routes})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        die(f"cannot listen on {host}:{port}: {exc}")
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    log(f"listening on {host}:{port}{' (TLS)' if tls is not None else ''}")
    server.serve_forever()
    die("the HTTP server stopped")


def health_route(body: bytes = b"Pong", content_type: str = "text/plain; charset=utf-8") -> Route:
    def route(handler: Handler) -> None:
        if fail_health():
            handler.send(500, b"failing on purpose (HARBORCTL_TEST_FAIL_HEALTH=1)")
        else:
            handler.send(200, body, content_type)

    return route


def fetch_adminserver_configs(base_url: str, secret: str, secret_name: str,
                              env_file: str) -> Any:
    """GET <adminserver>/api/configs with the service's secret, as Harbor's services do,
    retrying while the adminserver comes up; a refused secret is fatal at once."""
    import urllib.error
    import urllib.request

    url = base_url.rstrip("/") + "/api/configs"
    request = urllib.request.Request(url, headers={"Authorization": f"Harbor-Secret {secret}"})

    def attempt() -> Any:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def transient(exc: Exception) -> bool:
        if isinstance(exc, urllib.error.HTTPError):
            if exc.code == 401:
                die(f"the adminserver at {url} refused {secret_name} (401): {env_file} and "
                    "adminserver/env carry different secrets")
            return exc.code in (502, 503, 504)
        return isinstance(exc, OSError)

    return retry(f"fetching the configuration from {url}", attempt, wait_seconds(30), transient)
