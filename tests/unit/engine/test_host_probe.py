"""Health checks sent from the host: which checks translate, and what passes, against real HTTP
and HTTPS servers on loopback; and the waiter trusting them without an ``exec``."""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harborctl.engine.api.interface import ContainerDetails, ExecStatus
from harborctl.engine.lifecycle import health
from harborctl.engine.lifecycle.host_probe import HttpCheck, Outcome, http_checks, passes, probe
from harborctl.errors import UnhealthyError

V2_PROBE = ("curl --fail -s http://127.0.0.1:8080/api/v2.0/ping || "
            "curl --fail -s -k https://127.0.0.1:8443/api/v2.0/ping")


@pytest.mark.parametrize(("test", "expected"), [
    (("CMD", "curl", "--fail", "-s", "http://127.0.0.1:8080/api/ping"),
     (HttpCheck("http", 8080, "/api/ping", True),)),
    (("CMD", "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:8080/api/v1/stats"),
     (HttpCheck("http", 8080, "/api/v1/stats", False),)),
    (("CMD", "curl", "-fsS", "http://localhost/"), (HttpCheck("http", 80, "/", True),)),
    (("CMD", "curl", "--fail", "http://127.0.0.1:5000/v2/?x=1"),
     (HttpCheck("http", 5000, "/v2/?x=1", True),)),
    (("CMD-SHELL", V2_PROBE), (HttpCheck("http", 8080, "/api/v2.0/ping", True),
                               HttpCheck("https", 8443, "/api/v2.0/ping", True))),
    # what the host cannot do as the container would: left to exec
    (("CMD", "curl", "--fail", "https://127.0.0.1:8443/"), ()),  # verified TLS
    (("CMD", "curl", "--fail", "http://core:8080/"), ()),  # another host
    (("CMD", "curl", "-o", "/tmp/out", "http://127.0.0.1/"), ()),  # writes a file
    (("CMD", "curl", "-L", "http://127.0.0.1/"), ()),  # an option not understood
    (("CMD", "curl", "http://127.0.0.1/", "http://127.0.0.1:81/"), ()),
    (("CMD", "curl", "http://user:pw@127.0.0.1/"), ()),
    (("CMD", "curl", "http://127.0.0.1:99999/"), ()),
    (("CMD", "wget", "-q", "http://127.0.0.1:8080/"), ()),
    (("CMD-SHELL", "curl --fail http://127.0.0.1/ && touch /ok"), ()),
    (("CMD-SHELL", "curl --fail http://127.0.0.1/ || exit 1"), ()),
    (("CMD-SHELL", "netstat -ltu | grep 10514"), ()),
    (("CMD-SHELL", "curl -s http://127.0.0.1:$PORT/"), ()),
    (("CMD", "/docker-healthcheck.sh"), ()),
    (("NONE",), ()),
])
def test_which_checks_are_sent_from_the_host(test: tuple[str, ...],
                                             expected: tuple[HttpCheck, ...]) -> None:
    assert http_checks(test) == expected


class _Answers(http.server.BaseHTTPRequestHandler):
    status = {"/ok": 200, "/moved": 302, "/denied": 401, "/broken": 500}

    def do_GET(self) -> None:
        status = self.server.status.get(self.path, 404)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(context: ssl.SSLContext | None = None) -> Iterator[tuple[int, dict[str, int]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.status = dict(_Answers.status)  # type: ignore[attr-defined]
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.status  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def plain() -> Iterator[tuple[int, dict[str, int]]]:
    yield from _serve()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[int, dict[str, int]]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "core")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    yield from _serve(context)


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("path", "fail", "passed"), [
    ("/ok", True, True), ("/moved", True, True), ("/denied", True, False),
    ("/broken", True, False), ("/denied", False, True), ("/broken", False, True),
])
def test_what_passes_is_what_curl_passes(plain: tuple[int, dict[str, int]], path: str,
                                         fail: bool, passed: bool) -> None:
    port, _ = plain
    assert passes((HttpCheck("http", port, path, fail),), "127.0.0.1", 2) is passed


def test_nothing_listening_fails_with_or_without_fail() -> None:
    port = _closed_port()
    for fail in (True, False):
        assert not passes((HttpCheck("http", port, "/", fail),), "127.0.0.1", 2)


def test_https_with_insecure_ignores_the_certificate_and_any_alternative_passes(
        tls: tuple[int, dict[str, int]]) -> None:
    port, _ = tls
    refused = HttpCheck("http", _closed_port(), "/ok", True)
    assert passes((refused, HttpCheck("https", port, "/ok", True)), "127.0.0.1", 2)
    assert not passes((refused, HttpCheck("https", port, "/denied", True)), "127.0.0.1", 2)
    # plain http to a TLS listener gets no HTTP answer: a failure, not a pass
    assert not passes((HttpCheck("http", port, "/ok", False),), "127.0.0.1", 2)


class _StartingContainer:
    """An engine whose one container runs, on ``address``, with Docker's verdict still
    ``starting``: only harborctl's own probe can find it ready. ``exec`` is not expected."""

    def __init__(self, port: int, address: str = "127.0.0.1") -> None:
        self.port, self.address = port, address
        self.inspects = 0

    def inspect_container(self, container_id: str) -> ContainerDetails:
        self.inspects += 1
        return ContainerDetails(
            id=container_id, name="harbor-core", status="running", health="starting",
            healthcheck_test=("CMD", "curl", "--fail", "-s",
                              f"http://127.0.0.1:{self.port}/ready"),
            addresses=(self.address,) if self.address else ())

    def start_exec(self, container_id: str, command: object) -> str:
        raise AssertionError("an HTTP check is sent from the host, not through exec")

    def container_logs(self, container_id: str, tail: int) -> str:
        return ""


def test_the_waiter_trusts_the_check_sent_from_the_host(
        plain: tuple[int, dict[str, int]]) -> None:
    port, status = plain
    status["/ready"] = 503
    engine = _StartingContainer(port)
    threading.Timer(0.6, status.__setitem__, ("/ready", 200)).start()
    ready = health.wait_ready(engine, "c1", "core", timeout=10)  # type: ignore[arg-type]
    assert ready.how == "probe" and ready.waited
    assert 0.5 < ready.seconds < 3
    assert engine.inspects >= 2  # Docker was asked again meanwhile (an exit would show)


def test_a_check_that_never_passes_times_out_naming_the_service(
        plain: tuple[int, dict[str, int]]) -> None:
    port, status = plain
    status["/ready"] = 500
    started = time.monotonic()
    with pytest.raises(UnhealthyError, match=r"service core \(harbor-core\) did not become "
                                             r"healthy within 1 s: state running"):
        health.wait_ready(_StartingContainer(port), "c1", "core",  # type: ignore[arg-type]
                          timeout=1)
    assert time.monotonic() - started < 3


def test_status_runs_the_check_of_a_starting_service_itself(
        plain: tuple[int, dict[str, int]]) -> None:
    from harborctl.engine.status.confirm import confirm_starting
    from harborctl.engine.status.report import ProjectStatus, ServiceStatus, status_dict

    port, status = plain
    status["/ready"], status["/other"] = 200, 503

    class TwoContainers(_StartingContainer):
        def inspect_container(self, container_id: str) -> ContainerDetails:
            details = super().inspect_container(container_id)
            path = "/ready" if container_id == "up" else "/other"
            return ContainerDetails(**{**details.__dict__, "healthcheck_test": (
                "CMD", "curl", "--fail", f"http://127.0.0.1:{port}{path}")})

    rows = tuple(ServiceStatus(name, f"harbor-{name}", cid, "running", "starting", 3.0, (), "i")
                 for name, cid in (("core", "up"), ("portal", "down")))
    confirmed = confirm_starting(TwoContainers(port), ProjectStatus("harbor", rows))  # type: ignore[arg-type]
    as_json = status_dict(confirmed)
    assert [(s["health"], s["health_checked_by"], s["ok"]) for s in as_json["services"]] == [
        ("healthy", "harborctl", True), ("starting", "docker", False)]
    assert as_json["problems"] == ["portal (harbor-portal) is starting"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody answers: no answer at all."""
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_silence_is_unreachable_and_a_refusal_is_an_answer(silent_port: int) -> None:
    silent = HttpCheck("http", silent_port, "/", False)
    refused = HttpCheck("http", _closed_port(), "/", False)
    assert probe((silent,), "127.0.0.1", 0.2) is Outcome.UNREACHABLE
    assert probe((refused,), "127.0.0.1", 0.2) is Outcome.FAILED
    assert probe((silent, refused), "127.0.0.1", 0.2) is Outcome.FAILED


class _ExecOnly(_StartingContainer):
    """Its address does not answer from the host (rootless Docker); its check passes by exec."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.execs = 0

    def start_exec(self, container_id: str, command: object) -> str:
        self.execs += 1
        return "exec1"

    def exec_status(self, exec_id: str) -> ExecStatus:
        return ExecStatus(running=False, exit_code=0)


def test_an_address_that_never_answers_falls_back_to_exec(
        silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "HOST_PROBE_TIMEOUT", 0.1)
    monkeypatch.setattr(health, "UNREACHABLE_FOR", 0.3)
    engine = _ExecOnly(silent_port)
    ready = health.wait_ready(engine, "c1", "core", timeout=10)  # type: ignore[arg-type]
    assert ready.how == "probe" and engine.execs == 1
    assert health.check_now(engine, "c1") and engine.execs == 2  # type: ignore[arg-type]
