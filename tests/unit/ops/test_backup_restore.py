"""backup and restore through the CLI on the fake engine: what is dumped and copied in which
order, what restore refuses, replaces and feeds back, and failures that leave nothing behind."""

from __future__ import annotations

import contextlib
import errno
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import harborctl.install as install_module
from harborctl.errors import ExecFailedError
from harborctl.files import lock as lock_module
from harborctl.files.lock import OPERATION_LOCK_NAME, is_held
from harborctl.files.stream import AtomicOutput
from harborctl.ops import backup as backup_module
from harborctl.ops import restore as restore_module
from harborctl.ops.backup import LIST_DATABASES, dump_scripts
from harborctl.ops.backup_reader import Member, read_archive
from tests.unit.lock_holder import hold_lock
from tests.unit.ops.conftest import Deployment
from tests.unit.prepare_support import snapshot

ROLES = b"CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER PASSWORD 'SCRAM';\n"
REGISTRY_DUMP = [b"-- registry dump, piece %d\n" % i for i in range(6)]
BLOB = bytes(range(256)) * 300


@pytest.fixture
def site(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """The fake deployment with a database that answers the dump, and two blobs on disk."""
    monkeypatch.setattr(backup_module, "DUMP_PART", 60)  # the registry dump in several parts
    engine = deployment.engine
    engine.exec_outputs[tuple(LIST_DATABASES)] = [b"postgres\nregistry\n"]
    scripts = dict(dump_scripts(["registry", "postgres"]))
    engine.exec_outputs[tuple(scripts["globals"])] = [ROLES]
    engine.exec_outputs[tuple(scripts["postgres"])] = [b"-- postgres\n"]
    engine.exec_outputs[tuple(scripts["registry"])] = list(REGISTRY_DUMP)
    blobs = deployment.folder / "data/registry/docker/registry/v2/blobs/sha256/ab"
    blobs.mkdir(parents=True)
    (blobs / "abcd").mkdir()
    (blobs / "abcd" / "data").write_bytes(BLOB)
    link = deployment.folder / "data/registry/docker/registry/v2/repositories/library/a"
    link.mkdir(parents=True)
    (link / "link").write_text("sha256:abcd")
    return deployment


def members(archive: Path, passphrase: bytes | None = None) -> dict[str, bytes]:
    found: dict[str, bytes] = {}

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        found[member.name] = b"".join(chunks)

    read_archive(archive, passphrase, visit)
    return found


def test_backup_dumps_first_then_copies_the_data(site: Deployment, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "b.tar"
    archive.parent.mkdir()
    result = site.run("backup", "-o", str(archive))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert "Dumping the databases (postgres, registry)" in result.output
    found = members(archive)
    names = list(found)
    parts = [n for n in names if n.startswith("database/02-registry.sql.")]
    assert len(parts) > 1
    assert b"".join(found[n] for n in parts) == b"".join(REGISTRY_DUMP)
    assert names.index("database/00-globals.sql.0000") < names.index(
        "database/01-postgres.sql.0000") < names.index(parts[0])
    blob = "data/registry/docker/registry/v2/blobs/sha256/ab/abcd/data"
    assert names.index(parts[-1]) < names.index(blob) and found[blob] == BLOB
    data = site.folder / "data"
    assert found["secrets/secretkey"] == (data / "secretkey").read_bytes()
    assert found["secrets/token_key_pem"] == (
        data / "secret/harborctl/token_private_key.pem").read_bytes()
    assert found["config/harbor.cfg"] == site.config.read_bytes()
    assert found["config/harborctl.json"] == (
        site.folder / "common/config/harborctl.json").read_bytes()
    assert [p.name for p in archive.parent.iterdir()] == ["b.tar"]


def test_restore_refuses_to_replace_without_force(site: Deployment, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    before = snapshot(site.folder)
    site.engine.calls.clear()
    refused = site.run("restore", str(archive))
    assert refused.exit_code == 9, refused.output
    assert "container(s)" in refused.output and "data/registry" in refused.output
    assert "--force" in refused.output and "nothing was changed" in refused.output
    assert snapshot(site.folder) == before
    assert {call for call, _ in site.engine.calls} <= {"list_containers"}


def test_restore_with_force_replaces_and_feeds_the_dump(site: Deployment,
                                                         tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    data = site.folder / "data"
    kept = {p: p.read_bytes() for p in (data / "secretkey",
                                       data / "secret/harborctl/token_private_key.pem")}
    (data / "secretkey").write_text("another-key-0000")
    blob = data / "registry/docker/registry/v2/blobs/sha256/ab/abcd/data"
    blob.write_bytes(b"damaged")
    (data / "registry/stray").write_text("not in the backup")
    site.engine.calls.clear()
    restored = site.run("restore", str(archive), "--force")
    assert restored.exit_code == 0, restored.output
    assert "--force: replacing" in restored.output and "differs from the archive's" in \
        restored.output
    assert blob.read_bytes() == BLOB and not (data / "registry/stray").exists()
    assert all(path.read_bytes() == content for path, content in kept.items())
    assert stat.S_IMODE((data / "secretkey").stat().st_mode) == 0o600
    inputs = site.engine.exec_inputs
    assert [i.state for i in inputs] == ["finished"] * 3
    assert {i.service for i in inputs} == {"postgresql"}
    assert b"CREATE ROLE postgres;" not in inputs[0].data and b"ALTER ROLE" in inputs[0].data
    assert bytes(inputs[1].data) == b"-- postgres\n"
    assert bytes(inputs[2].data) == b"".join(REGISTRY_DUMP)
    calls = site.engine.calls
    loaded = calls.index(("open_exec_input", "postgresql"))
    created = [target for call, target in calls[:loaded] if call == "create_container"]
    assert sorted(created) == ["log", "postgresql"]  # the database alone (and the log)
    assert ("create_container", "core") in calls[loaded:]


def test_a_failing_dump_leaves_no_archive(site: Deployment, tmp_path: Path) -> None:
    scripts = dict(dump_scripts(["registry", "postgres"]))
    site.engine.exec_outputs[tuple(scripts["registry"])] = ExecFailedError(
        "`sh -c PGPASSWORD=...` in the container exited with 1: pg_dump: error: out of memory")
    out = tmp_path / "out"
    out.mkdir()
    failed = site.run("backup", "-o", str(out / "b.tar"))
    assert failed.exit_code == 1, failed.output
    assert "pg_dump: error" in failed.output
    assert list(out.iterdir()) == []


def test_a_full_disk_says_how_much_was_needed(site: Deployment, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = AtomicOutput.write

    def filling(self: AtomicOutput, data: bytes) -> int:
        if self.written + len(data) > 30000:
            raise self._failed(OSError(errno.ENOSPC, "No space left on device"))
        return real_write(self, data)

    monkeypatch.setattr(AtomicOutput, "write", filling)
    out = tmp_path / "out"
    out.mkdir()
    full = site.run("backup", "-o", str(out / "b.tar"))
    assert full.exit_code == 6, full.output
    assert "filled up" in full.output
    assert re.search(r"needs about 75\.\d KiB \(the database dump so far, 243 B, plus "
                     r"75\.0 KiB of files\)", full.output), full.output
    assert "no partial archive was left" in full.output
    assert list(out.iterdir()) == []


def test_backup_needs_the_database_running(site: Deployment, tmp_path: Path) -> None:
    for container in site.engine.by_service("postgresql"):
        container.status = "exited"
    stopped = site.run("backup", "-o", str(tmp_path / "b.tar"))
    assert stopped.exit_code == 1
    assert "postgresql" in stopped.output and "harborctl start" in stopped.output
    assert not (tmp_path / "b.tar").exists()


def _every_path(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_damaged_archive_changes_nothing_even_with_force(site: Deployment,
                                                          tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    raw = bytearray(archive.read_bytes())
    raw[raw.index(BLOB[:64]) + 1000] ^= 0x01  # in the blob: found once everything is unpacked
    archive.write_bytes(bytes(raw))
    before, paths = snapshot(site.folder), _every_path(site.folder)
    site.engine.calls.clear()
    refused = site.run("restore", str(archive), "--force")
    assert refused.exit_code == 8, refused.output
    assert "does not match its checksum" in refused.output
    assert "nothing was changed" in refused.output
    assert snapshot(site.folder) == before and _every_path(site.folder) == paths
    assert {call for call, _ in site.engine.calls} <= {"list_containers"}


def test_a_truncated_archive_leaves_no_folder_behind(site: Deployment, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    archive.write_bytes(archive.read_bytes()[:-20000])  # cut inside the data
    data = site.folder / "data"
    shutil.rmtree(data)  # the data volume is gone: restore must create it, then remove it
    refused = site.run("restore", str(archive), "--force")
    assert refused.exit_code == 8, refused.output
    assert "truncated" in refused.output and "nothing was changed" in refused.output
    assert not data.exists()


def test_too_little_free_space_is_refused_before_the_dump(site: Deployment, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_module, "free_bytes", lambda folder: 40000)
    out = tmp_path / "out"
    out.mkdir()
    site.engine.calls.clear()
    refused = site.run("backup", "-o", str(out / "b.tar"))
    assert refused.exit_code == 6, refused.output
    assert f"{out} has 39.1 KiB free, but the archive needs at least" in refused.output
    assert "the registry and chart data, 75.0 KiB, plus the database dump" in refused.output
    assert "-o FILE" in refused.output
    assert list(out.iterdir()) == []
    assert ("exec_stream", "postgresql") not in site.engine.calls


@contextlib.contextmanager
def another_harborctl(folder: Path) -> Iterator[None]:
    """Another process holding the project's operation lock, as a running backup or restore."""
    holder = hold_lock(folder, 30, OPERATION_LOCK_NAME)
    try:
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_restore_waits_for_another_then_exits_busy_changing_nothing(
        site: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    monkeypatch.setattr(lock_module, "WAIT_SECONDS", 0.1)
    before = snapshot(site.folder)
    with another_harborctl(site.folder):
        busy = site.run("restore", str(archive), "--force")
    assert busy.exit_code == 7, busy.output
    assert f"another harborctl is working on the project {site.folder}" in busy.output
    assert snapshot(site.folder) == before  # no staging folder left in the data volume either


def test_a_backup_waits_for_a_restore_then_exits_busy(
        site: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_module, "LOCK_WAIT", 0.1)
    archive = tmp_path / "b.tar"
    with another_harborctl(site.folder):
        busy = site.run("backup", "-o", str(archive))
    assert busy.exit_code == 7, busy.output
    assert not archive.exists() and list(tmp_path.glob("*.tar*")) == []


def test_a_restore_holds_the_project_until_its_install_is_done(
        site: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "b.tar"
    assert site.run("backup", "-o", str(archive)).exit_code == 0
    seen: list[tuple[str, bool]] = []
    real_load, real_install = restore_module._load, install_module.install

    def load(*args: Any, **kwargs: Any) -> None:
        seen.append(("load", is_held(site.folder, OPERATION_LOCK_NAME)))
        real_load(*args, **kwargs)

    def install(*args: Any, **kwargs: Any) -> Any:
        result = real_install(*args, **kwargs)  # its prepare takes the other lock meanwhile
        seen.append(("installed", is_held(site.folder, OPERATION_LOCK_NAME)))
        return result

    monkeypatch.setattr(restore_module, "_load", load)
    monkeypatch.setattr(install_module, "install", install)
    restored = site.run("restore", str(archive), "--force")
    assert restored.exit_code == 0, restored.output
    assert seen == [("load", True), ("installed", True)]
    assert not is_held(site.folder, OPERATION_LOCK_NAME)  # released at the end
