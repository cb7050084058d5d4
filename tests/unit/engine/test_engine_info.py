"""engine_info and the restart count on both real implementations of the seam."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.api.interface import EngineInfo, container_details, engine_info
from harborctl.engine.api.socket_client import LightClient
from tests.unit.engine.test_engine_seam import INSPECT, CannedEngine, http

INFO = {"ServerVersion": "20.10.24", "SystemTime": "2026-12-01T13:19:08.123456789Z",
        "DockerRootDir": "/var/lib/docker", "Containers": 10}


def test_info_document_to_engine_info() -> None:
    assert engine_info(INFO) == EngineInfo("20.10.24", "2026-12-01T13:19:08.123456789Z",
                                           "/var/lib/docker")
    assert engine_info({}) == EngineInfo("", "", "")


def test_restart_count_from_inspect() -> None:
    assert container_details({**INSPECT, "RestartCount": 3}).restart_count == 3
    assert container_details(INSPECT).restart_count == 0


def test_light_client_reads_info(tmp_path: Path) -> None:
    path = str(tmp_path / "engine.sock")
    engine = CannedEngine(path, [http("200 OK", json.dumps(INFO).encode())])
    assert LightClient(path).engine_info().server_version == "20.10.24"
    assert engine.requests == [b"GET /v1.39/info HTTP/1.0"]


class InfoApi:
    def info(self) -> dict[str, Any]:
        return INFO


class Client:
    api = InfoApi()


def test_sdk_adapter_reads_info() -> None:
    info = SdkEngine(Client()).engine_info()  # type: ignore[arg-type]
    assert info.system_time.startswith("2026-12-01T13:19:08")
