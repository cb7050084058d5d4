"""`harborctl status` through click on the fake engine: the table on stdout, each problem on
stderr (which a runner that swaps sys.stderr, as click 8.1's does, reads only once flushed)."""

from __future__ import annotations

import pytest

import harborctl.cli.engine_cmds as engine_cmds
from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.unit.ops.conftest import Deployment


def test_a_stopped_service_is_named_on_stderr_with_exit_5(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_cmds, "_light_or_full_client", lambda: deployment.engine)
    healthy = cli_runner().invoke(cli, ["status", "-c", str(deployment.config)])
    assert healthy.exit_code == 0, healthy.output
    assert healthy.stderr == ""

    [registryctl] = deployment.engine.by_service("registryctl")
    deployment.engine.stop_container(registryctl.id, 1)
    result = cli_runner().invoke(cli, ["status", "-c", str(deployment.config)])
    assert result.exit_code == 5
    assert "problem: " in result.stderr and "registryctl" in result.stderr
    assert "registryctl" in result.stdout  # its row in the table
