"""prepare with a harbor.yml: the 2.15 deployment written through the shared writer; secrets
kept from run to run, so an unchanged file changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.cli.app import cli
from harborctl.prepare_v2 import load_v2_for_prepare, prepare_v2
from tests.cli_runner import cli_runner
from tests.unit.yml.v2_support import BASE

pytest.importorskip("bcrypt")  # the registry credential's htpasswd line is made with it


def write(tmp_path: Path, extra: str = "") -> Path:
    text = BASE.replace("/data", str(tmp_path / "data")).replace(
        "/var/log/harbor", str(tmp_path / "logs")) + extra
    path = tmp_path / "harbor.yml"
    path.write_text(text)
    return path


def run(path: Path, dry_run: bool = False, with_trivy: bool = False) -> object:
    folder = path.parent
    return prepare_v2(load_v2_for_prepare(path, folder, with_trivy), folder, dry_run,
                      token_bits=2048)


def test_prepare_writes_the_tree_and_an_unchanged_file_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path)
    first = run(path)
    assert len(first.changes) > 20 and "core_secret" in first.created_secrets  # type: ignore[attr-defined]
    core_env = (tmp_path / "common/config/core/env").read_bytes()
    assert (tmp_path / "docker-compose.yml").exists()
    assert (tmp_path / "data/secret/keys/secretkey").stat().st_mode & 0o777 == 0o600
    second = run(path)
    assert second.changes == [] and second.created_secrets == []  # type: ignore[attr-defined]
    assert (tmp_path / "common/config/core/env").read_bytes() == core_env


def test_one_key_changes_only_the_files_that_hold_it(tmp_path: Path) -> None:
    path = write(tmp_path)
    run(path)
    path.write_text(path.read_text().replace("max_job_workers: 10", "max_job_workers: 12"))
    changed = {str(c.path.relative_to(tmp_path)) for c in run(path).changes}  # type: ignore[attr-defined]
    assert changed == {"common/config/core/env", "common/config/jobservice/config.yml"}


def test_trivy_is_remembered(tmp_path: Path) -> None:
    path = write(tmp_path)
    first = run(path, with_trivy=True)
    assert "trivy-adapter" in first.deployment.services  # type: ignore[attr-defined]
    again = run(path)
    assert again.enabled_by == {"trivy": "enabled by an earlier run"}  # type: ignore[attr-defined]
    assert again.changes == []  # type: ignore[attr-defined]


def test_dry_run_writes_nothing_and_shows_no_secret(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = cli_runner().invoke(cli, ["prepare", "-c", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "common").exists() and not (tmp_path / "data").exists()
    assert "Adm1n-pass" not in result.stdout and "db-pass-1" not in result.stdout
    assert "holds secrets" in result.stdout and "docker-compose.yml" in result.stdout


def test_purge_targets_of_a_harbor_yml_deployment(tmp_path: Path) -> None:
    from harborctl.config.yml import check_yml
    from harborctl.errors import FilesystemError
    from harborctl.purge import check_recorded_data_volume, purge_targets

    path = write(tmp_path)
    config = check_yml(path).config
    assert config is not None
    with pytest.raises(FilesystemError, match="no prepare of this project recorded"):
        check_recorded_data_volume(config, tmp_path)
    run(path, with_trivy=True)
    check_recorded_data_volume(config, tmp_path)  # recorded by that prepare: no error
    (tmp_path / "data" / "operators-own.txt").write_text("keep")
    names = [p.name for p in purge_targets(config)]
    assert names == ["ca_download", "database", "job_logs", "redis", "registry", "secret",
                     "trivy-adapter"]


def test_the_mount_points_docker_would_make_are_there_before_it_runs(tmp_path: Path) -> None:
    """The registry binds common/config/registry/ and a file inside it: Docker would create
    registry/root.crt on the host at the first start, changing the folder's hash, so the next
    install recreated registry and registryctl and prepare reported a file it had not written."""
    from harborctl.engine.compose.labels import path_digest
    from harborctl.plan.harbor_2_15 import HARBOR_2_15

    path = write(tmp_path)
    result = run(path)
    points = HARBOR_2_15.mount_points(result.config)  # type: ignore[attr-defined]
    assert points == ("registry/root.crt",)
    folder = tmp_path / "common/config/registry"
    before = path_digest(folder)
    for point in points:  # what the engine does at the mount point: create it if missing
        (tmp_path / "common/config" / point).touch(exist_ok=True)
    assert path_digest(folder) == before
    again = run(path)
    assert again.changes == []  # type: ignore[attr-defined]
    assert not [w for w in again.warnings if "not written by harborctl" in w]  # type: ignore[attr-defined]
