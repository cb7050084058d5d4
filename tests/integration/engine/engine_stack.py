"""The busybox stand-in stack used by the engine's integration tests.

log      listens with ``nc -ll`` on 10514 (published on 127.0.0.1) and appends what it gets to
         ``data/log/all.log``; everyone depends on it being healthy
web      busybox httpd serving ``common/config/web/``; syslog driver to the log service
app      depends on web being healthy; its health check fetches from ``web`` by service name
         and by container name (the aliases); syslog driver; writes into ``data/``
cron     independent; no health check
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import docker
import pytest

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ComposeProject


@dataclass
class Stack:
    """A project folder with a compose file, its unique project name and its host ports."""

    root: Path
    name: str
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def compose_file(self) -> Path:
        return self.root / "docker-compose.yml"

    def write(self, text: str) -> None:
        self.compose_file.write_text(text)

    def load(self) -> ComposeProject:
        return load_compose(self.compose_file, project_name=self.name)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip; but fail where the host was set up for these tests (scripts/test.sh as root)."""
    if os.environ.get("HARBORCTL_REQUIRE_DOCKER") == "1":
        pytest.fail(f"HARBORCTL_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


class Recorder:
    """A ``report`` callback that keeps every line (tests assert on order and wording)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def remove_project(client: docker.DockerClient, project: str) -> None:
    """Remove a project's containers and networks, found by label."""
    label = f"com.docker.compose.project={project}"
    for container in client.containers.list(all=True, filters={"label": label}, sparse=True):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    for network in client.networks.list(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()


COMPOSE = """\
version: '2.3'
services:
  log:
    image: {image}
    container_name: {name}-log
    init: true
    command:
      - sh
      - -c
      - exec nc -ll -p 10514 -e sh -c 'cat >> /var/log/docker/all.log'
    volumes:
      - ./data/log:/var/log/docker:z
    ports:
      - "127.0.0.1:{log_port}:10514"
    healthcheck:
      test: netstat -ltn | grep -q 10514
      interval: 500ms
      timeout: 2s
      retries: 20
    labels: {{harborctl.test: "1"}}
    networks: [harbor]
    stop_grace_period: 2s
  web:
    image: {image}
    container_name: {name}-web
    init: true
    command: httpd -f -p 8080 -h /www
    env_file: ./common/config/web/env
    volumes:
      - ./common/config/web/:/www/:ro,z
    ports:
      - "{web_port}:8080"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]
      interval: 500ms
      timeout: 2s
      retries: 20
    logging:
      driver: syslog
      options:
        syslog-address: "tcp://127.0.0.1:{log_port}"
        tag: web
    depends_on:
      log:
        condition: service_healthy
    labels: {{harborctl.test: "1"}}
    networks: [harbor]
  app:
    image: {image}
    container_name: {name}-app
    init: true
    command: ["sh", "-c", "echo app up $$MODE; echo started > /data/app.txt; exec sleep 100000"]
    environment:
      MODE: one
    volumes:
      - ./data:/data:z
      - ./common/config/app/app.conf:/etc/app.conf:ro
    healthcheck:
      test: >-
        wget -q -O /dev/null http://web:8080/index.html &&
        wget -q -O /dev/null http://{name}-web:8080/index.html
      interval: 500ms
      timeout: 2s
      retries: 20
    logging:
      driver: syslog
      options:
        syslog-address: "tcp://127.0.0.1:{log_port}"
        tag: app
    depends_on:
      log:
        condition: service_healthy
      web:
        condition: service_healthy
    labels: {{harborctl.test: "1"}}
    networks:
      harbor:
        aliases: [application]
  cron:
    image: {image}
    container_name: {name}-cron
    init: true
    cpu_quota: 50000
    restart: always
    command: ["sleep", "100000"]
    labels: {{harborctl.test: "1"}}
    networks: [harbor]
networks:
  harbor:
    driver: bridge
    labels: {{harborctl.test: "1"}}
"""


def write_stack(stack: Stack, image: str, log_port: int, web_port: int) -> None:
    """Write the compose file and the config files it mounts into the stack's folder."""
    stack.ports.update(log=log_port, web=web_port)
    web = stack.root / "common/config/web"
    web.mkdir(parents=True, exist_ok=True)
    (web / "index.html").write_text("hello\n")
    (web / "env").write_text("GREETING=hello\n")
    app = stack.root / "common/config/app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "app.conf").write_text("level=1\n")
    (stack.root / "data/log").mkdir(parents=True, exist_ok=True)
    stack.write(COMPOSE.format(image=image, name=stack.name, log_port=log_port,
                               web_port=web_port))


def status_now(engine: Any, project: Any) -> Any:
    """What `harborctl status` answers: Docker's words, and for a service Docker has not
    checked yet (a converge returns once each check passes, run by harborctl), its check run
    now."""
    from harborctl.engine.status.confirm import confirm_starting
    from harborctl.engine.status.report import project_status

    return confirm_starting(engine, project_status(engine, project))
