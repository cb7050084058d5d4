"""The import fence of `harborctl status`, checked without Docker or root: a stand-in engine on a
UNIX socket answers the container list, and the real command runs in a process of its own.

Operators' monitors run `harborctl status` every few seconds: its quick path must not import
click, PyYAML, the docker package, json, re, typing, dataclasses, pathlib or socket (together
more than the rest of the answer)."""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

FORBIDDEN = {"click", "yaml", "docker", "json", "re", "typing", "dataclasses", "pathlib",
             "socket"}
PROJECT = "fence"
COMPOSE = """\
version: "2.3"
services:
  log:
    image: goharbor/harbor-log:v1.7.5
    container_name: harbor-log
  registry:
    image: goharbor/registry-photon:v2.6.2-v1.7.5
    container_name: registry
"""


def listed(service: str, name: str, image: str) -> dict[str, object]:
    return {"Id": f"{service:0<64}"[:64], "Names": [f"/{name}"], "Image": image,
            "ImageID": "sha256:" + "1" * 64, "State": "running",
            "Status": "Up 5 minutes (healthy)", "Ports": [], "Created": 0,
            "Labels": {"com.docker.compose.project": PROJECT,
                       "com.docker.compose.service": service,
                       "com.docker.compose.oneoff": "False"}}


CONTAINERS = [listed("log", "harbor-log", "goharbor/harbor-log:v1.7.5"),
              listed("registry", "registry", "goharbor/registry-photon:v2.6.2-v1.7.5")]


class _Engine(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        path = self.path.split("?")[0]
        if path.endswith("/_ping"):
            self._answer(200, b"OK", "text/plain")
        elif path.endswith("/version"):
            self._answer(200, json.dumps({"ApiVersion": "1.41", "Version": "20.10.24"}).encode())
        elif path.endswith("/containers/json"):
            self._answer(200, json.dumps(CONTAINERS).encode())
        else:
            self._answer(404, b'{"message": "not in this stand-in"}')

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture()
def engine_socket(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    path = tmp_path / "engine.sock"
    seen: list[str] = []
    handler = type("Engine", (_Engine,), {"requests": seen})
    server = _Server(str(path), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield path, seen
    server.shutdown()
    server.server_close()


def run_status(project: Path, engine: Path, *services: str) -> subprocess.CompletedProcess[str]:
    code = "from harborctl.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, "status", "--project-dir",
         str(project), "-p", PROJECT, *services],
        capture_output=True, text=True, check=False, timeout=60,
        env={**os.environ, "DOCKER_HOST": f"unix://{engine}", "NO_COLOR": "1"})


def imported_after_cli(importtime: str) -> set[str]:
    modules = [line.rsplit("|", 1)[1].strip() for line in importtime.splitlines()
               if line.startswith("import time:")]
    return set(modules[modules.index("harborctl.cli") + 1:])


def test_quick_status_imports_nothing_heavy(tmp_path: Path,
                                            engine_socket: tuple[Path, list[str]]) -> None:
    engine, requests = engine_socket
    project = tmp_path / "deploy"
    project.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE)

    first = run_status(project, engine)  # no remembered services yet: the full command answers
    assert first.returncode == 0, first.stderr
    assert "click" in imported_after_cli(first.stderr)
    assert (project / ".harborctl-services").exists()

    requests.clear()
    quick = run_status(project, engine)
    assert quick.returncode == 0, quick.stderr
    modules = imported_after_cli(quick.stderr)
    assert "harborctl.cli.quick_status" in modules
    assert not modules & FORBIDDEN, sorted(modules & FORBIDDEN)
    assert [r.split("?")[0] for r in requests] == ["/v1.39/containers/json"]  # one request
    rows = [line.split()[:2] for line in quick.stdout.splitlines()[1:]]
    assert rows == [row for row in (line.split()[:2] for line in first.stdout.splitlines()[1:])]
    assert {row[0] for row in rows} == {"log", "registry"}


def test_status_of_named_services_only(tmp_path: Path,
                                       engine_socket: tuple[Path, list[str]]) -> None:
    engine, _ = engine_socket
    project = tmp_path / "deploy"
    project.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE)
    named = run_status(project, engine, "registry")
    assert named.returncode == 0, named.stderr
    assert [line.split()[0] for line in named.stdout.splitlines()[1:]] == ["registry"]
    unknown = run_status(project, engine, "portal")
    assert unknown.returncode == 2
    assert "Error: no service portal in the project" in unknown.stderr
    assert "its services: log, registry" in unknown.stderr
