"""prepare on a real filesystem: no-op re-runs, minimal changes, kept secrets, atomic failure."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from harborctl.engine.compose.syntax import parse_env_file
from harborctl.errors import ConfigError, FilesystemError, HarborctlError
from tests import yaml_load as yaml
from tests.cli_runner import cli_runner
from tests.unit.prepare_support import prepare_file, snapshot, write_config

BITS = 2048  # the product uses 4096; tests only need a valid pair quickly


def run(cfg: Path, **kwargs: object) -> object:
    return prepare_file(cfg, cfg.parent, token_bits=BITS, **kwargs)  # type: ignore[arg-type]


def test_first_run_writes_the_tree_with_private_modes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = run(cfg)
    files = snapshot(tmp_path)
    assert "docker-compose.yml" in files
    assert "common/config/registry/config.yml" in files
    for name in ("data/secretkey", "data/secret/harborctl/token_private_key.pem",
                 "common/config/core/private_key.pem", "common/config/adminserver/env"):
        assert files[name][1] == 0o600, name
    assert len(files["data/secretkey"][0]) == 16
    assert files["common/config/core/private_key.pem"][0].startswith(
        b"-----BEGIN RSA PRIVATE KEY-----")
    assert "secretkey" in result.created_secrets  # type: ignore[attr-defined]
    assert (tmp_path / "data" / "database").is_dir()


def test_second_run_changes_nothing_not_even_mtimes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    before = snapshot(tmp_path)
    result = run(cfg)
    assert result.changes == []  # type: ignore[attr-defined]
    assert result.created_secrets == []  # type: ignore[attr-defined]
    assert snapshot(tmp_path) == before


def test_changing_one_key_changes_only_dependent_files(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    before = snapshot(tmp_path)
    cfg.write_text(cfg.read_text() + "max_job_workers = 3\n")
    result = run(cfg)
    changed = {str(c.path.relative_to(tmp_path)) for c in result.changes}  # type: ignore[attr-defined]
    assert changed == {"common/config/jobservice/config.yml", "common/config/adminserver/env"}
    after = snapshot(tmp_path)
    for name in before:
        if name not in changed and name != "harbor.cfg":
            assert after[name] == before[name], name
    assert yaml.safe_load(after["common/config/jobservice/config.yml"][0])[
        "worker_pool"]["workers"] == 3


def test_secrets_survive_and_token_key_is_reused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    key = (tmp_path / "data/secretkey").read_bytes()
    token = (tmp_path / "common/config/core/private_key.pem").read_bytes()
    cfg.write_text(cfg.read_text().replace("Adm1n-pass", "Other-pass"))
    run(cfg)
    assert (tmp_path / "data/secretkey").read_bytes() == key
    assert (tmp_path / "common/config/core/private_key.pem").read_bytes() == token


def test_a_damaged_stored_token_key_is_named_and_nothing_changes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    key_file = tmp_path / "data/secret/harborctl/token_private_key.pem"
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    before = snapshot(tmp_path)
    with pytest.raises(HarborctlError, match=re.escape(str(key_file))):
        run(cfg)
    assert snapshot(tmp_path) == before


def test_invalid_config_leaves_the_tree_untouched(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    before = snapshot(tmp_path / "common")
    cfg.write_text(cfg.read_text() + "http_port = 0\nredis_db_index = 9\n")
    with pytest.raises(ConfigError) as info:
        run(cfg)
    assert len([p for p in info.value.problems if ": warning: " not in p]) == 2
    assert snapshot(tmp_path / "common") == before


def test_failure_half_way_leaves_previous_tree_byte_identical(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    before = snapshot(tmp_path / "common")
    before_compose = (tmp_path / "docker-compose.yml").read_bytes()
    # An immutable chartserver folder: even root cannot create a file in it, so staging fails
    # after the files planned before it (adminserver/env, jobservice/config.yml) were staged.
    blocked = tmp_path / "common/config/chartserver"
    blocked.mkdir()
    if subprocess.run(["chattr", "+i", str(blocked)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(blocked)], check=False))
    before = snapshot(tmp_path / "common")
    cfg.write_text(cfg.read_text() + "with_chartmuseum = on\nmax_job_workers = 4\n")
    with pytest.raises(FilesystemError, match="cannot write .*chartserver/env"):
        run(cfg)
    assert snapshot(tmp_path / "common") == before
    assert (tmp_path / "docker-compose.yml").read_bytes() == before_compose
    leftovers = [p for p in tmp_path.rglob(".*") if p.is_file() and p.name != ".harborctl.lock"]
    assert leftovers == []


def test_dry_run_writes_nothing_and_masks_secrets(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = run(cfg, dry_run=True)
    assert not (tmp_path / "common").exists()
    assert not (tmp_path / "data" / "secretkey").exists()
    diff = result.diff  # type: ignore[attr-defined]
    assert "+++ " + str(tmp_path / "docker-compose.yml") in diff
    assert "Adm1n-pass" not in diff and "db-pass-1" not in diff
    assert "HARBOR_ADMIN_PASSWORD" not in diff  # a file holding secrets: its size only
    assert "adminserver/env\n@@ create: holds secrets, changed (" in diff


def test_components_are_remembered_until_turned_off(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg, flags={"chartmuseum": True})
    assert "chartmuseum" in (tmp_path / "docker-compose.yml").read_text()
    result = run(cfg)  # flag forgotten: still on
    assert result.deployment.components.chartmuseum  # type: ignore[attr-defined]
    assert "earlier run" in result.enabled_by["chartmuseum"]  # type: ignore[attr-defined]
    cfg.write_text(cfg.read_text() + "with_chartmuseum = off\n")
    result = run(cfg)
    assert not result.deployment.components.chartmuseum  # type: ignore[attr-defined]
    assert "chartmuseum:" not in (tmp_path / "docker-compose.yml").read_text()
    assert not (tmp_path / "common/config/chartserver/env").exists()
    state = json.loads((tmp_path / "common/config/harborctl.json").read_text())
    assert state["components"]["chartmuseum"] is False


@pytest.mark.parametrize(
    "password", ["it's", 'a"b', "x#y: z", "$HOME$$x", "{{ evil }}", "50%%", "k=v"]
)
def test_values_cannot_change_structure(tmp_path: Path, password: str) -> None:
    cfg = write_config(tmp_path, extra=f"redis_password = {password}\n"
                                        f"email_password = {password}\n")
    cfg.write_text(cfg.read_text().replace("db-pass-1", password))
    run(cfg)
    config_dir = tmp_path / "common/config"
    registry = yaml.safe_load((config_dir / "registry/config.yml").read_text())
    assert registry["redis"]["password"] == password
    assert set(registry) == {"version", "log", "storage", "redis", "http", "auth", "notifications"}
    for env in ("db/env", "adminserver/env"):
        lines = (config_dir / env).read_text().splitlines()
        assert all(re.match(r"[A-Z_]+=", line) for line in lines)
        values = parse_env_file((config_dir / env).read_text())
        assert len(values) == len(lines)
        assert values.get("POSTGRES_PASSWORD", values.get("POSTGRESQL_PASSWORD")) == password
    compose = yaml.safe_load((tmp_path / "docker-compose.yml").read_text())
    assert set(compose["services"]) >= {"core", "proxy", "log"}


def test_newline_in_a_value_is_rejected_before_rendering(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text() + "email_password = abc\n  INJECTED=1\n")
    with pytest.raises(ConfigError) as info:
        run(cfg)
    assert any("continues on an indented line" in p for p in info.value.problems)
    assert not (tmp_path / "common").exists()


def test_prepare_command_output(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, extra="with_chartmuseum = on\n")
    result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "component chartmuseum: on (with_chartmuseum in harbor.cfg)" in result.stdout
    assert "create docker-compose.yml" in result.stdout
    assert "services: log, registry" in result.stdout
    again = cli_runner().invoke(cli, ["prepare", "-c", str(cfg)])
    assert "nothing changed" in again.stdout
    mode = stat.S_IMODE((tmp_path / "data/secretkey").stat().st_mode)
    assert mode == 0o600


def test_hand_edit_of_compose_file_is_kept_with_a_warning(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run(cfg)
    compose = tmp_path / "docker-compose.yml"
    edited = compose.read_text().replace("    container_name: harbor-portal\n",
                                         "    container_name: harbor-portal\n"
                                         "    environment:\n      EXTRA: \"1\"\n")
    compose.write_text(edited)
    result = run(cfg)
    assert compose.read_text() == edited
    assert any("edited by hand" in w for w in result.warnings)  # type: ignore[attr-defined]
    cfg.write_text(cfg.read_text() + "http_port = 8081\n")
    result = run(cfg)
    assert compose.read_text() == edited
    assert any("do not reach it" in w for w in result.warnings)  # type: ignore[attr-defined]
    compose.unlink()
    run(cfg)
    assert '"8081:80"' in compose.read_text()
    assert "EXTRA" not in compose.read_text()
