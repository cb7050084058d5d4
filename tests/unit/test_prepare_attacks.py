"""Issue 13, the files side: links, modes, the sweep, --dry-run and a lost secretkey."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from urllib.parse import quote

import pytest

from harborctl.cli.app import cli
from harborctl.errors import HarborctlError
from tests.cli_runner import cli_runner
from tests.unit.prepare_support import prepare_file as prepare
from tests.unit.prepare_support import write_config

BITS = 2048


def run(cfg: Path, **kwargs: object) -> object:
    return prepare(cfg, cfg.parent, token_bits=BITS, **kwargs)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_symlinked_common_config_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "unrelated.txt").write_text("keep me")
    config_dir = tmp_path / "common/config"
    config_dir.rename(tmp_path / "old-config")
    config_dir.symlink_to(elsewhere)
    with pytest.raises(HarborctlError, match=r"common/config is a symbolic link"):
        run(cfg)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["unrelated.txt"]


def test_operator_files_are_kept_and_only_recorded_files_are_swept(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, extra="with_chartmuseum = on\n")
    run(cfg)
    custom = tmp_path / "common/config/nginx/conf.d/custom.server.conf"
    custom.parent.mkdir()
    custom.write_text("location /extra {}\n")
    cfg.write_text(cfg.read_text().replace("with_chartmuseum = on", "with_chartmuseum = off"))
    result = run(cfg)
    assert custom.read_text() == "location /extra {}\n"
    assert any(str(custom) in w and "kept" in w for w in result.warnings)  # type: ignore[attr-defined]
    assert not (tmp_path / "common/config/chartserver/env").exists()  # generated: swept


def test_directory_modes_do_not_follow_the_umask(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace(f"secretkey_path = {tmp_path}/data",
                                           f"secretkey_path = {keys}"))
    old = os.umask(0o000)
    try:
        run(cfg)
    finally:
        os.umask(old)
    for private in ("data/secret", "data/secret/harborctl", "keys"):
        assert mode(tmp_path / private) == 0o700, private
    for public in ("common", "common/config", "common/config/nginx", "common/config/core"):
        assert mode(tmp_path / public) == 0o755, public
    for folder in [tmp_path / "common", *tmp_path.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            assert not mode(folder) & 0o022, folder


def test_planned_modes_are_applied_to_existing_folders(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    os.chmod(tmp_path / "data/secret/harborctl", 0o777)
    os.chmod(tmp_path / "common/config/core", 0o777)
    run(cfg)
    assert mode(tmp_path / "data/secret/harborctl") == 0o700
    assert mode(tmp_path / "common/config/core") == 0o755


def test_a_link_where_a_data_folder_goes_is_refused_and_never_chowned(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    outside = tmp_path / "system"
    outside.mkdir(mode=0o751)
    os.chmod(outside, 0o751)
    (tmp_path / "data").mkdir()
    (tmp_path / "data/registry").symlink_to(outside)
    before = os.stat(outside)
    with pytest.raises(HarborctlError, match=r"data/registry is a symbolic link") as info:
        run(cfg)
    assert info.value.hint and "real folder" in info.value.hint
    after = os.stat(outside)
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid,
                                                           before.st_mode)


def test_dry_run_never_prints_old_or_new_secrets_in_any_form(tmp_path: Path) -> None:
    old_pw, new_pw, redis_pw = "Old-db-pass#1", "New-db-pass#2", "r3dis/p@ss:w%rd"
    cfg = write_config(tmp_path, extra=f"redis_password = {redis_pw}\nemail_password = zq\n"
                                       "registry_storage_provider_name = s3\n"
                                       "registry_storage_provider_config = accesskey: AKIA1, "
                                       "secretkey: S3-SECRET-KEY, region: x, bucket: b\n")
    cfg.write_text(cfg.read_text().replace("db-pass-1", old_pw))
    run(cfg)
    cfg.write_text(cfg.read_text().replace(old_pw, new_pw).replace("zq", "zr")
                   .replace("S3-SECRET-KEY", "S3-OTHER-KEY") + "http_port = 8080\n")
    diff = run(cfg, dry_run=True).diff  # type: ignore[attr-defined]
    for value in (old_pw, new_pw, redis_pw, quote(redis_pw, safe=""), json.dumps(redis_pw),
                  "S3-SECRET-KEY", "S3-OTHER-KEY", "=zq", "=zr", "'zq'", "'zr'"):
        assert value not in diff, value
    assert "holds secrets, changed (" in diff
    assert "********" not in diff  # nothing is half-shown
    assert '"8080:80"' in diff  # the files without secrets still show their lines


def test_dry_run_never_reads_through_a_link(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    private = tmp_path / "private.txt"
    private.write_text("TOP-SECRET-CONTENT\n")
    logrotate = tmp_path / "common/config/log/logrotate.conf"
    logrotate.unlink()
    logrotate.symlink_to(private)
    result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg), "--dry-run"])
    assert "TOP-SECRET-CONTENT" not in result.output


def test_a_deleted_secretkey_on_a_prepared_deployment_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    (tmp_path / "data/secretkey").unlink()
    result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg)])
    assert result.exit_code == 6, result.output
    assert "secretkey" in result.stderr and "--new-secretkey" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "data/secretkey").exists()
    result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg), "--new-secretkey"])
    assert result.exit_code == 0, result.output
    assert "unreadable" in result.stderr
    assert len((tmp_path / "data/secretkey").read_bytes()) == 16


def test_a_moved_secretkey_path_with_an_existing_database_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "data/database").mkdir(parents=True)
    (tmp_path / "data/database/PG_VERSION").write_text("9.6\n")
    with pytest.raises(HarborctlError, match="database .* already holds data"):
        run(cfg)
    assert not (tmp_path / "data/secretkey").exists()


def test_a_data_volume_named_through_a_link_is_the_operators_choice(tmp_path: Path) -> None:
    disk = tmp_path / "bigdisk"
    disk.mkdir()
    os.chmod(disk, 0o750)
    (tmp_path / "data").symlink_to(disk)
    cfg = write_config(tmp_path)
    run(cfg)
    assert (disk / "secretkey").is_file() and (disk / "registry").is_dir()
    assert mode(disk) == 0o750  # the link's target is not harborctl's to chmod


def test_staging_copies_left_by_an_older_killed_run_are_removed(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    leftover = tmp_path / "common/config/db/.env.k3j_2l9x"
    leftover.write_text("POSTGRES_PASSWORD=db-pass-1\n")
    operators = tmp_path / "common/config/db/.env.notes"
    operators.write_text("mine\n")
    run(cfg)
    assert not leftover.exists()
    assert operators.read_text() == "mine\n"


def test_a_link_planted_as_the_lock_file_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched")
    (tmp_path / ".harborctl.lock").symlink_to(target)
    with pytest.raises(HarborctlError, match="lock file"):
        run(cfg)
    assert target.read_text() == "untouched"
