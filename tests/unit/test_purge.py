"""down --purge-data: lists what it would delete, deletes only with --yes, never the certs."""

from __future__ import annotations

import json
from pathlib import Path

from harborctl.cli.app import cli
from harborctl.config import load_config
from harborctl.purge import purge, purge_targets
from tests.cli_runner import cli_runner
from tests.unit.prepare_support import write_config


def seeded(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path)
    data = tmp_path / "data"
    for name in ("registry/docker", "database/base", "redis", "secret/harborctl", "cert"):
        (data / name).mkdir(parents=True)
    (data / "secretkey").write_text("k" * 16)
    (data / "cert" / "server.crt").write_text("operator's certificate")
    state = tmp_path / "common/config/harborctl.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"data_volume": str(data)}))  # as the last prepare records it
    return cfg


def test_targets_are_harbors_data_only(tmp_path: Path) -> None:
    cfg = seeded(tmp_path)
    config = load_config(cfg).config
    assert config is not None
    targets = purge_targets(config)
    names = {p.relative_to(tmp_path / "data").as_posix() for p in targets}
    assert names == {"registry", "database", "redis", "secret", "secretkey"}
    purge(targets)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["cert"]
    assert (tmp_path / "data/cert/server.crt").read_text() == "operator's certificate"


def test_purge_without_yes_lists_and_changes_nothing(tmp_path: Path) -> None:
    cfg = seeded(tmp_path)
    result = cli_runner().invoke(cli, ["down", "-c", str(cfg), "--purge-data"])
    assert result.exit_code == 2
    assert f"{tmp_path}/data/database" in result.stderr
    assert "add --yes" in result.stderr
    assert (tmp_path / "data/database/base").is_dir()
