"""`logs -f`, `doctor` and the support bundle against a real deployment of the goharbor test images
(https, with a certificate that expires in 10 days).

The tests share one deployment and run in order: the last one stops the proxy."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from harborctl.config import load_config
from harborctl.config.model import Config
from harborctl.secrets import secret_paths
from tests.e2e.operator import REPO, free_port
from tests.integration.deployment_site import DB_PASSWORD, PASSWORD, Site

pytestmark = pytest.mark.docker
HOST = "harbor.ops.test"
PROJECT = "harborops"
HTTPS_PORT = free_port()
FOLLOW_BOUND_S = 10.0  # generous: the figure itself is printed, not asserted


@pytest.fixture(scope="module")
def site(harbor_images: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("ops"), free_port(), HOST, PROJECT)
    s.write_cfg(f"ui_url_protocol = https\nhttps_port = {HTTPS_PORT}\n"
                f"ssl_cert = {s.root}/data/cert/server.crt\n"
                f"ssl_cert_key = {s.root}/data/cert/server.key\n")
    try:
        made = s.run("gencert", "--days", "10")
        assert made.exit_code == 0, made.output
        installed = s.run("install")
        assert installed.exit_code == 0, installed.output
        yield s
    finally:
        s.down()


def _ctrl_c_as_at_a_terminal() -> None:
    """A test run started in the background (``cmd &``) ignores SIGINT, and so would every
    program it starts: Python then leaves Ctrl-C ignored too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Follower:
    """`harborctl logs -f SERVICE` in its own process; each line it prints, with its time."""

    def __init__(self, site: Site, service: str) -> None:
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harborctl", "logs", "-f", service, "-c", str(site.cfg)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=_ctrl_c_as_at_a_terminal)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line))

    def seen(self, text: str, bound: float) -> float | None:
        """When a line holding ``text`` was printed, waiting up to ``bound`` seconds."""
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            for moment, line in list(self.lines):
                if text in line:
                    return moment
            time.sleep(0.02)
        return None

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            _, errors = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        return errors


def request_through_the_proxy(site: Site, path: str) -> None:
    """A request the proxy's nginx writes to its access log (its standard output), which the
    engine's syslog driver sends to the log service: a line the service itself writes."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    finally:
        connection.close()


def test_logs_follow_shows_a_line_the_service_writes(site: Site) -> None:
    follower = Follower(site, "proxy")
    try:
        # the follower is running once a line written now reaches it
        ready = f"/harborctl-ready-{uuid.uuid4().hex}"
        for _ in range(10):
            request_through_the_proxy(site, ready)
            if follower.seen(ready, 2.0) is not None:
                break
        else:
            pytest.fail(f"logs -f printed no line of the proxy: {follower.lines[-5:]}")
        latencies = []
        for _ in range(5):
            marker = f"/harborctl-follow-{uuid.uuid4().hex}"
            sent = time.monotonic()
            request_through_the_proxy(site, marker)
            shown = follower.seen(marker, FOLLOW_BOUND_S)
            assert shown is not None, f"not shown within {FOLLOW_BOUND_S} s: " \
                                      f"{follower.lines[-5:]}"
            latencies.append(shown - sent)
        print(f"\nlogs -f latency (request sent -> its access log line printed), 5 lines: "
              f"{', '.join(f'{s:.3f}' for s in latencies)} s")
    finally:
        errors = follower.stop()
    assert follower.process.returncode == 0, errors
    assert (site.root / "log" / "proxy.log").is_file()


def _secret_values(site: Site) -> dict[str, bytes]:
    """Every secret of the deployment as it could leak: the passwords, each stored secret, and
    each line of every private key's body."""
    config = load_config(site.cfg).config
    assert isinstance(config, Config)
    values = {"harbor_admin_password": PASSWORD.encode(), "db_password": DB_PASSWORD.encode()}
    keys = [site.root / "data/cert/server.key", site.root / "data/cert/ca.key",
            site.project / "common/config/core/private_key.pem"]
    for name, path in secret_paths(config).items():
        if not path.exists():
            continue
        if path.name.endswith((".key", ".pem")) and b"PRIVATE KEY" in path.read_bytes():
            keys.append(path)
        elif not path.name.endswith((".crt", ".pem")):
            values[name] = path.read_bytes().strip()
    for key in keys:
        body = [line for line in key.read_bytes().splitlines() if not line.startswith(b"-----")]
        values.update({f"{key.name} line {i}": line for i, line in enumerate(body)})
    assert all(len(value) >= 8 for value in values.values()), values.keys()
    return values


def test_the_support_bundle_holds_no_secret(site: Site) -> None:
    bundle = site.root / "support.tar.gz"
    result = site.run("doctor", "--bundle", str(bundle))
    assert result.exit_code in (0, 5), result.output
    assert f"support bundle written to {bundle}" in result.output
    assert bundle.stat().st_mode & 0o777 == 0o600
    secrets = _secret_values(site)
    names = []
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            names.append(member.name)
            handle = tar.extractfile(member)
            content = handle.read() if handle is not None else b""
            for label, value in secrets.items():
                assert value not in content and value not in member.name.encode(), \
                    f"{label} is in {member.name}"
    # what an operator would send is there: the config, the compose file, the services' logs
    for expected in ("harbor.cfg", "docker-compose.yml", "checks.json", "logs/core.log",
                     "common/config/core/env"):
        assert f"harborctl-support/{expected}" in names, names
    print(f"\nsupport bundle: {len(names)} files, none holding any of {len(secrets)} secret "
          "values")


def _checks(output: str) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in json.loads(output)}


def test_doctor_finds_a_stopped_service_an_expiring_certificate_and_a_taken_port(
        site: Site, docker_client: Any) -> None:
    before = _checks(site.run("doctor", "--json").stdout)
    assert before["ports"]["status"] == "OK", before["ports"]
    assert before["service proxy"]["status"] == "OK", before["service proxy"]
    assert before["certificate"]["status"] == "WARN", before["certificate"]
    docker_client.containers.get("nginx").stop(timeout=10)  # the proxy: its ports are free
    port = HTTPS_PORT
    with socket.socket() as holder:  # something else takes one of them meanwhile
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("0.0.0.0", port))
        holder.listen()
        found = site.run("doctor", "--json")
        shown = site.run("doctor")
    assert found.exit_code == 5, found.output
    checks = _checks(found.stdout)
    proxy = checks["service proxy"]
    assert proxy["status"] == "FAIL" and "is exited" in proxy["detail"], proxy
    assert "harborctl start" in proxy["hint"]
    ports = checks["ports"]
    assert ports["status"] == "FAIL" and str(port) in ports["detail"], ports
    assert f"sport = :{port}" in ports["hint"]
    certificate = checks["certificate"]
    assert certificate["status"] == "WARN" and "expires on" in certificate["detail"], certificate
    assert "gencert" in certificate["hint"] or "renew" in certificate["detail"]
    for line in ("FAIL  ports", "FAIL  service proxy", "WARN  certificate"):
        assert any(row.startswith(line) for row in shown.stdout.splitlines()), shown.stdout
