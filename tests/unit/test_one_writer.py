"""One writer per project, the jinja cache out of the shared temp folder, and a purge that
deletes only the data volume the last prepare recorded."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.unit.lock_holder import hold_lock
from tests.unit.prepare_support import prepare_file as prepare
from tests.unit.prepare_support import write_config


def test_a_second_writer_waits_briefly_then_exits_busy(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path)
    monkeypatch.setattr("harborctl.files.lock.WAIT_SECONDS", 0.2)
    holder = hold_lock(tmp_path, 30)
    try:
        result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 7, result.output
    assert f"another harborctl is working on the project {tmp_path}" in result.stderr
    assert not (tmp_path / "common").exists()


def test_a_writer_that_finishes_soon_is_waited_for(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    holder = hold_lock(tmp_path, 0.25)
    try:
        prepare(cfg, tmp_path, token_bits=2048)
    finally:
        holder.wait()
    assert (tmp_path / "docker-compose.yml").is_file()


def test_a_foreign_jinja_cache_in_the_temp_folder_does_not_break_prepare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    planted = shared / f"_jinja2-cache-{os.geteuid()}"
    planted.mkdir()
    os.chown(planted, 4242, 4242)  # another user was first
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.setenv("TMPDIR", str(shared))
    project = tmp_path / "project"
    project.mkdir()
    prepare(write_config(project), project, token_bits=2048)
    assert list(planted.iterdir()) == []


def test_purge_refuses_a_data_volume_the_last_prepare_did_not_record(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "data/database").mkdir(parents=True)
    result = cli_runner().invoke(cli, ["down", "-c", str(cfg), "--purge-data", "--yes"])
    assert result.exit_code == 6
    assert "no prepare of this project recorded a data volume" in result.stderr
    state = tmp_path / "common/config/harborctl.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"data_volume": "/srv/other"}))
    result = cli_runner().invoke(cli, ["down", "-c", str(cfg), "--purge-data", "--yes"])
    assert result.exit_code == 6
    assert "the last prepare of this project used /srv/other" in result.stderr
    assert (tmp_path / "data/database").is_dir()
