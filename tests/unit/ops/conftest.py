"""A deployment installed on the fake engine, and the CLI pointed at that engine."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import harborctl.cli.ops_cmds as ops_cmds
import harborctl.prepare as prepare_module
from harborctl.cli.app import cli
from harborctl.engine.api.session import EngineSession
from harborctl.install import install
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.prepare_support import write_config


@dataclass
class Deployment:
    config: Path
    folder: Path
    engine: FakeEngine
    http_port: int

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "-c", str(self.config)])


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: None,
               free_ports: set[int]) -> Deployment:
    real_build = prepare_module.build
    monkeypatch.setattr(prepare_module, "build",
                        lambda *args, **kwargs: real_build(*args, **{**kwargs, "token_bits": 2048}))
    engine = FakeEngine()
    engine.registry = "goharbor/"
    port = unused_port()
    config = write_config(tmp_path, extra=f"http_port = {port}\n"
                                          "email_password = Mail-Pa$$/w%rd\"x\n")
    install(config, tmp_path, lambda _: None, session=EngineSession(engine=engine), timeout=5)
    session: Callable[[], EngineSession] = lambda: EngineSession(engine=engine)  # noqa: E731
    monkeypatch.setattr(ops_cmds, "engine_session", session)
    return Deployment(config, tmp_path, engine, port)
