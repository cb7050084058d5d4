"""The syslog logging driver refuses to start a container until its address listens: retried."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import docker
import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.converge.apply import converge
from harborctl.errors import HarborctlError
from tests.integration.engine.engine_stack import Recorder, Stack, free_port

pytestmark = pytest.mark.docker

COMPOSE = """\
version: '2.3'
services:
  lonely:
    image: {image}
    container_name: {name}-lonely
    init: true
    command: ["sh", "-c", "echo hello; exec sleep 100000"]
    logging:
      driver: syslog
      options:
        syslog-address: "tcp://127.0.0.1:{port}"
    labels: {{harborctl.test: "1"}}
networks:
  default:
    labels: {{harborctl.test: "1"}}
"""


def test_start_is_retried_until_the_log_address_listens(
    client: docker.DockerClient, engine: SdkEngine,
    make_stack: Callable[[], Stack],
    busybox_image: str,
    report: Recorder,
) -> None:
    stack = make_stack()
    port = free_port()
    stack.write(COMPOSE.format(image=busybox_image, name=stack.name, port=port))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen_late() -> None:
        listener.bind(("127.0.0.1", port))
        listener.listen(16)

    timer = threading.Timer(1.0, listen_late)
    timer.start()
    try:
        result = converge(engine, stack.load(), report, timeout=30)
    finally:
        timer.cancel()
        timer.join()
        listener.close()
    assert [a.kind for a in result.actions] == ["create"]
    assert "lonely: logging driver not ready yet, retrying" in report.lines
    assert client.containers.get(f"{stack.name}-lonely").status == "running"


def test_start_gives_up_when_nothing_listens(
    engine: SdkEngine,
    make_stack: Callable[[], Stack],
    busybox_image: str,
    report: Recorder,
) -> None:
    stack = make_stack()
    stack.write(COMPOSE.format(image=busybox_image, name=stack.name, port=free_port()))
    with pytest.raises(HarborctlError) as caught:
        converge(engine, stack.load(), report, timeout=30)
    assert "cannot start the container of service lonely" in caught.value.message
    assert "failed to initialize logging driver" in caught.value.message
    assert caught.value.hint is not None and "log service" in caught.value.hint
