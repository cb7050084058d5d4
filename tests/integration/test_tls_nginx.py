"""A real nginx serves the certificate gencert made; Python's ssl handshakes with it, trusting
only the generated CA."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harborctl.gencert import GencertPaths, apply_gencert, plan_gencert, read_existing
from harborctl.tls.checking import check_server_certificate

pytestmark = pytest.mark.validators

HOSTNAME = "harbor.test.example"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()), None
)


@dataclass(frozen=True)
class Served:
    port: int
    ca_file: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(folder: Path, port: int, cert: Path, key: Path) -> str:
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 32; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {HOSTNAME};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ return 200 "harborctl-tls-ok\\n"; }}
    }}
}}
"""


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            pytest.fail(f"nginx exited with {process.returncode}:\n{text}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on 127.0.0.1:{port} within 15 s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if NGINX is None:
        pytest.skip("nginx is not installed (looked for nginx on PATH and in /usr/sbin)")
    folder = tmp_path_factory.mktemp("nginx")
    cert_dir = folder / "cert"
    paths = GencertPaths.beside(cert_dir / "server.crt", cert_dir / "server.key")
    apply_gencert(
        plan_gencert(
            paths.server_cert,
            paths.server_key,
            HOSTNAME,
            existing=read_existing(paths),
            ips=["127.0.0.1"],
        )
    )
    port = _free_port()
    conf = folder / "nginx.conf"
    conf.write_text(_config(folder, port, paths.server_cert, paths.server_key))
    log = folder / "error.log"
    command = [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(log)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        pytest.fail(f"nginx -t rejected the test configuration:\n{check.stderr}")
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _wait_until_listening(process, port, log)
        yield Served(port=port, ca_file=paths.ca_cert)
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown, the master stops its workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _handshake(served: Served, server_hostname: str, ca_file: Path | None = None) -> str:
    context = ssl.create_default_context(cafile=str(ca_file or served.ca_file))
    with (
        socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls_socket,
    ):
        tls_socket.sendall(f"GET / HTTP/1.0\r\nHost: {server_hostname}\r\n\r\n".encode())
        chunks = []
        while chunk := tls_socket.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks).decode()


def test_handshake_with_only_the_generated_ca_succeeds(served: Served) -> None:
    response = _handshake(served, HOSTNAME)
    assert response.startswith("HTTP/1.1 200")
    assert "harborctl-tls-ok" in response


def test_handshake_by_ip_address_succeeds(served: Served) -> None:
    assert "harborctl-tls-ok" in _handshake(served, "127.0.0.1")


def test_handshake_with_a_wrong_hostname_fails(served: Served) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _handshake(served, "other.test.example")


def test_handshake_without_the_ca_fails(served: Served, tmp_path: Path) -> None:
    from harborctl.tls.making import generate_ca

    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(generate_ca("Some other CA").cert_pem)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        _handshake(served, HOSTNAME, other_ca)


def test_certcheck_agrees_with_the_served_files(served: Served) -> None:
    cert_dir = served.ca_file.parent
    problems = check_server_certificate(
        cert_dir / "server.crt",
        cert_dir / "server.key",
        f"{HOSTNAME}:{served.port}",
        now=dt.datetime.now(dt.UTC),
        ca_path=served.ca_file,
    )
    assert problems == []
