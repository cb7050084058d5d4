"""The standard-library socket client answers like the docker SDK, on the real engine."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.api.session import EngineSession
from harborctl.engine.api.socket_client import LightClient, socket_path
from harborctl.engine.images import inventory
from harborctl.engine.status.listing import list_project_containers
from harborctl.errors import DockerUnavailableError

pytestmark = pytest.mark.docker


def test_light_client_lists_and_stops_like_the_sdk(harbor_images: list[str], docker_client: Any,
                                                   run_container: Any) -> None:
    project = f"hctlight{uuid.uuid4().hex[:8]}"
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": "portal"}
    container = run_container("goharbor/harbor-portal:v1.7.5", labels=labels,
                              ports={"80/tcp": ("127.0.0.1", None)})
    path = socket_path()
    assert path is not None
    light = LightClient(path)
    via_light = list_project_containers(light, project)
    sdk = SdkEngine(docker_client)
    via_sdk = list_project_containers(sdk, project)
    assert [(c.id, c.name, c.state, c.image_id, c.ports) for c in via_light] == \
           [(c.id, c.name, c.state, c.image_id, c.ports) for c in via_sdk]
    assert via_light[0].id == container.id and via_light[0].running
    assert via_light[0].ports[0].host_ip == "127.0.0.1"
    assert inventory.image_ids(light, harbor_images) == inventory.image_ids(sdk, harbor_images)
    light.stop_container(container.id, timeout=5)
    container.reload()
    assert container.status == "exited"
    light.stop_container(container.id, timeout=5)  # already stopped: nothing to do


def test_session_checks_the_engine_version() -> None:
    EngineSession().check()


def test_unreachable_socket_is_docker_unavailable(tmp_path: Any) -> None:
    light = LightClient(str(tmp_path / "none.sock"))
    with pytest.raises(DockerUnavailableError, match="cannot reach the Docker engine"):
        light.list_containers()
