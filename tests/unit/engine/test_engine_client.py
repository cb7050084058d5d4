"""Host-port checks and the compose-to-API mapping (no daemon needed)."""

from __future__ import annotations

import socket
from pathlib import Path

import docker
import pytest

from harborctl.engine.api.client import connect, ports_in_use
from harborctl.engine.api.docker_sdk import create_kwargs
from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import PortMapping
from harborctl.engine.converge.containers import container_spec, service_environment
from harborctl.errors import DockerUnavailableError


def test_ports_in_use() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        assert ports_in_use([PortMapping(port, 80), free]) == [PortMapping(port, 80)]
        assert ports_in_use([port], ours={port}) == []


COMPOSE = """\
version: '2.1'
services:
  log:
    image: log:1
    container_name: harbor-log
    ports: ["127.0.0.1:1514:10514", "8080:80"]
    networks: {harbor: {aliases: [syslog]}, extra: null}
    env_file: ./env
    environment: {B: "2", FROM_HOST: null, NOT_SET: null}
    volumes: ["./common/config/log:/etc/log:ro,z"]
    restart: "on-failure:5"
    cap_drop: [ALL]
    cap_add: [CHOWN]
    dns_search: .
    init: true
    user: "10000:10000"
    stop_grace_period: 3s
    logging: {driver: syslog, options: {syslog-address: "tcp://127.0.0.1:1514", tag: log}}
    healthcheck: {test: ["CMD", "true"], interval: 500ms, retries: 2}
networks:
  harbor: {}
  extra: {}
"""


def test_create_kwargs(tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h/env").write_text("A=1\nB=1\n")
    (tmp_path / "h/docker-compose.yml").write_text(COMPOSE)
    project = load_compose(tmp_path / "h/docker-compose.yml", environ={})
    log = project.service("log")
    assert service_environment(log, {"FROM_HOST": "x"}) == {"A": "1", "B": "2", "FROM_HOST": "x"}
    api = docker.APIClient(version="1.41")
    kwargs = create_kwargs(api, container_spec(project, log, "h1", environ={}))
    host = kwargs["host_config"]
    assert kwargs["name"] == "harbor-log"
    assert kwargs["labels"]["io.harborctl.hash"] == "h1"
    assert kwargs["stop_timeout"] == 3
    assert kwargs["user"] == "10000:10000"
    assert kwargs["healthcheck"] == {"test": ["CMD", "true"], "interval": 500_000_000,
                                     "retries": 2}
    assert host["Binds"] == [f"{tmp_path}/h/common/config/log:/etc/log:ro,z"]
    assert host["PortBindings"] == {
        "10514/tcp": [{"HostIp": "127.0.0.1", "HostPort": "1514"}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 5}
    assert host["CapDrop"] == ["ALL"] and host["CapAdd"] == ["CHOWN"]
    assert host["DnsSearch"] == ["."]
    assert host["Init"] is True
    assert host["LogConfig"] == {"Type": "syslog", "Config": {
        "syslog-address": "tcp://127.0.0.1:1514", "tag": "log"}}
    endpoints = kwargs["networking_config"]["EndpointsConfig"]
    assert list(endpoints) == ["h_harbor"]
    assert endpoints["h_harbor"]["Aliases"] == ["log", "harbor-log", "syslog"]


def test_connect_failure_gives_advice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(DockerUnavailableError) as caught:
        connect(timeout=5)
    assert caught.value.exit_code == 4
    assert caught.value.message.startswith("cannot reach the Docker engine")
    assert caught.value.hint is not None
    assert "dockerd" in caught.value.hint and "docker group" in caught.value.hint


def test_too_old_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    class Old:
        def version(self) -> dict[str, str]:
            return {"ApiVersion": "1.38"}

        def close(self) -> None:
            pass

    monkeypatch.setattr(docker, "from_env", lambda **_: Old())
    with pytest.raises(DockerUnavailableError, match="at least 1.39"):
        connect()
