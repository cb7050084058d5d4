"""A small compose project for the fake engine: log <- web <- app, and cron on its own."""

from __future__ import annotations

from pathlib import Path

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ComposeProject

IMAGE = "busybox:1"
IMAGE_ID = "sha256:" + "b" * 64

COMPOSE = """\
version: '2.3'
services:
  log:
    image: busybox:1
    container_name: stack-log
    ports: ["127.0.0.1:41514:10514"]
    healthcheck: {test: netstat -ltn | grep -q 10514, interval: 500ms, timeout: 2s}
    networks: [harbor]
    stop_grace_period: 2s
  web:
    image: busybox:1
    container_name: stack-web
    env_file: ./web.env
    ports: ["48080:8080"]
    healthcheck: {test: ["CMD", "wget", "-q", "http://127.0.0.1:8080/"], timeout: 2s}
    logging: {driver: syslog, options: {syslog-address: "tcp://127.0.0.1:41514"}}
    depends_on: {log: {condition: service_healthy}}
    networks: [harbor, back]
  app:
    image: busybox:1
    container_name: stack-app
    environment: {MODE: one}
    healthcheck: {test: ["CMD", "true"]}
    depends_on: {log: {condition: service_healthy}, web: {condition: service_healthy}}
    networks: {harbor: {aliases: [application]}}
  cron:
    image: busybox:1
    container_name: stack-cron
    restart: always
    command: ["sleep", "100000"]
    networks: [harbor]
networks:
  harbor: {}
  back: {}
"""


def write_project(folder: Path, text: str = COMPOSE) -> ComposeProject:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "web.env").write_text("A=1\n")
    (folder / "docker-compose.yml").write_text(text)
    return load_compose(folder / "docker-compose.yml", "stack", environ={})
