"""backup and restore on the real engine with the goharbor test images: two images pushed (one
sharing the other's layer) and a row in the registry database come back byte for byte after
`down --purge-data`, on the same folder and in a fresh one; a full disk leaves no archive.

The tests share one deployment and run in order."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harborctl.config import load_config
from harborctl.config.model import Config
from harborctl.ops.backup import data_files
from tests.e2e.operator import add_hosts_entry, free_port, remove_hosts_entries
from tests.integration.deployment_site import Site, remove_tags_of

pytestmark = pytest.mark.docker
HOST = "harbor.backup.test"
PASSPHRASE = "correct horse battery staple\n"
PROJECT = "harborbk"


def _images(docker_client: Any) -> tuple[str, str]:
    """A busybox image, and one on top of it (sharing its layer)."""
    base, derived = "harborctl-backup/base:1", "harborctl-backup/derived:1"
    for tag, dockerfile, files in (
        (base, b'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "true"]\n',
         {"busybox": Path("/bin/busybox").read_bytes()}),
        (derived, f"FROM {base}\nCOPY note /note\n".encode(), {"note": os.urandom(4096)}),
    ):
        if docker_client.images.list(name=tag):
            continue
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, content in {**files, "Dockerfile": dockerfile}.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(content), 0o755
                tar.addfile(info, io.BytesIO(content))
        context.seek(0)
        docker_client.images.build(fileobj=context, custom_context=True, tag=tag,
                                   labels={"harborctl.test": "1"}, rm=True)
    return base, derived


@pytest.fixture(scope="module")
def site(harbor_images: list[str], docker_client: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("backup"), free_port(), HOST, PROJECT)
    s.write_cfg()
    add_hosts_entry(HOST)
    try:
        yield s
    finally:
        for cfg in (s.cfg, s.root / "fresh" / PROJECT / "harbor.cfg"):
            if cfg.exists():
                s.down(cfg=cfg)
        remove_hosts_entries()
        remove_tags_of(docker_client, HOST)


def test_install_push_and_write_a_row(site: Site, docker_client: Any) -> None:
    installed = site.run("install")
    assert installed.exit_code == 0, installed.output
    assert site.login().returncode == 0
    for name, image in zip(("base", "derived"), _images(docker_client)):
        target = f"{site.registry}/library/{name}:1"
        site.docker("tag", image, target)
        site.docker("push", target)
        site.digests[target] = site.digest(target)
    site.psql("CREATE TABLE harbor_user_standin (username text primary key, password text); "
              "INSERT INTO harbor_user_standin VALUES ('dev1', 'hash-of-Dev1-pass')")
    site.kept = site.secrets()


def test_backup_writes_one_private_archive(site: Site) -> None:
    archive = site.root / "backup.tar"
    result = site.run("backup", "-o", str(archive))
    assert result.exit_code == 0, result.output
    assert f"backup written to {archive}" in result.stdout
    assert "Dumping the databases" in result.stderr
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:  # a plain tar: readable by hand
        names = tar.getnames()
    assert names[0] == "harborctl-backup.json" and names[-1] == "MANIFEST.json"
    dump = [n for n in names if n.startswith("database/")]
    blobs = [n for n in names if n.startswith("data/registry/docker/registry/v2/blobs/")]
    assert dump and blobs and names.index(dump[-1]) < names.index(blobs[0])
    assert {"secrets/secretkey", "secrets/token_key_pem", "config/harbor.cfg",
            "config/harborctl.json"} <= set(names)
    assert not [p for p in archive.parent.iterdir() if p.name.endswith(".partial")]
    passphrase = site.root / "passphrase"
    passphrase.write_text(PASSPHRASE)
    encrypted = site.run("backup", "-o", str(site.root / "backup.tar.enc"),
                         "--passphrase-file", str(passphrase))
    assert encrypted.exit_code == 0, encrypted.output
    assert b"secretkey" not in (site.root / "backup.tar.enc").read_bytes()


def test_restore_refuses_to_replace_a_running_deployment(site: Site) -> None:
    before = site.run("status", "--json").stdout
    refused = site.run("restore", str(site.root / "backup.tar"))
    assert refused.exit_code == 9, refused.output
    assert "--force" in refused.stderr and "database" in refused.stderr
    assert site.run("status", "--json").stdout.split('"uptime')[0] == before.split('"uptime')[0]


RESTORED = ("registry", "chart_storage", "secret", "secretkey", "defaultalias", "cert")


def _files(site: Site) -> dict[str, tuple[int, int]]:
    """What a restore would write, with size and modification time: the project's files, the
    registry's and charts' data, the secrets, the certificates, and any staging folder."""
    found = {}
    for root in (site.project, site.root / "data"):
        for path in root.rglob("*"):
            top = path.relative_to(root).parts[0]
            if root == site.project or top in RESTORED or top.startswith(".harborctl"):
                info = path.lstat()
                found[str(path)] = (info.st_size, info.st_mtime_ns)
    return found


def test_a_damaged_archive_is_refused_even_with_force(site: Site) -> None:
    good = (site.root / "backup.tar").read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    ids = site.run("status", "--json").stdout.split('"uptime')[0]
    files = _files(site)
    for name, content in (("flipped.tar", bytes(flipped)), ("cut.tar", good[:len(good) // 3])):
        damaged = site.root / name
        damaged.write_bytes(content)
        refused = site.run("restore", str(damaged), "--force")
        assert refused.exit_code == 8, refused.output
        assert "corrupt" in refused.stderr or "truncated" in refused.stderr
        assert "nothing was changed" in refused.stderr
        assert _files(site) == files
    assert site.run("status", "--json").stdout.split('"uptime')[0] == ids


def _assert_everything_back(site: Site, cfg: Path, project: Path) -> None:
    assert site.login().returncode == 0
    assert site.login("not-the-password").returncode != 0
    for target, digest in site.digests.items():
        site.docker("rmi", target)
        site.docker("pull", target)
        assert site.digest(target) == digest
    assert site.psql("SELECT password FROM harbor_user_standin WHERE username = 'dev1'") == \
        "hash-of-Dev1-pass"
    assert site.secrets(project) == site.kept
    again = site.run("install", cfg=cfg)
    assert again.exit_code == 0, again.output
    assert "10 noop" in again.stdout


def test_restore_onto_data_without_force_is_refused(site: Site) -> None:
    assert site.down().exit_code == 0  # the containers go, the data stays
    files = _files(site)
    refused = site.run("restore", str(site.root / "backup.tar"))
    assert refused.exit_code == 9, refused.output
    assert f"the database in {site.root}/data/database" in refused.stderr
    assert f"the files in {site.root}/data/registry" in refused.stderr
    assert "container(s)" not in refused.stderr and "nothing was changed" in refused.stderr
    assert _files(site) == files


def test_restore_after_down_purge_data(site: Site) -> None:
    purged = site.down("--purge-data", "--yes")
    assert purged.exit_code == 0, purged.output
    assert not (site.root / "data" / "secretkey").exists()
    restored = site.run("restore", str(site.root / "backup.tar"))
    assert restored.exit_code == 0, restored.output
    assert "all checksums match" in restored.stderr
    assert "Loading the database dump" in restored.stderr
    _assert_everything_back(site, site.cfg, site.project)


def test_a_killed_restore_leaves_a_folder_doctor_names_and_the_next_restore_works(
        site: Site) -> None:
    """SIGKILL while the archive is being unpacked: nothing is in place yet, the staging folder
    stays (a kill runs no cleanup), doctor names it with the command that removes it, and
    removes nothing; a new restore is not hindered by it."""
    assert site.down("--purge-data", "--yes").exit_code == 0
    data = site.root / "data"
    restore = subprocess.Popen(
        [sys.executable, "-m", "harborctl", "restore", str(site.root / "backup.tar"),
         "-c", str(site.cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        staging: list[Path] = []
        while not staging and restore.poll() is None and time.monotonic() < deadline:
            staging = [p for p in data.glob(".harborctl-restore-*") if any(p.iterdir())]
            time.sleep(0.005)
        restore.send_signal(signal.SIGKILL)
    finally:
        restore.wait()
    assert staging, "the restore ended before its staging folder held anything"
    assert not (data / "secretkey").exists()  # killed before anything was moved into place
    found = site.run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(found.stdout)}
    left = checks["restore"]
    assert left["status"] == "WARN" and str(staging[0]) in left["detail"], left
    assert left["hint"].endswith(f"rm -rf {staging[0]}")
    assert staging[0].is_dir()
    restored = site.run("restore", str(site.root / "backup.tar"))
    assert restored.exit_code == 0, restored.output
    assert staging[0].is_dir()  # another run's folder: not the new restore's to remove
    shutil.rmtree(staging[0])  # what the hint says
    checks = {c["name"]: c for c in json.loads(site.run("doctor", "--json").stdout)}
    assert checks["restore"]["status"] == "OK", checks["restore"]
    _assert_everything_back(site, site.cfg, site.project)


def test_restore_into_a_fresh_folder_after_the_first_is_gone(site: Site) -> None:
    assert site.down("--purge-data", "--yes").exit_code == 0
    shutil.rmtree(site.project)
    fresh = site.root / "fresh" / PROJECT
    fresh.mkdir(parents=True)
    cfg = fresh / "harbor.cfg"
    wrong = site.root / "wrong-passphrase"
    wrong.write_text("not it\n")
    data_before = sorted(str(p) for p in (site.root / "data").rglob("*"))
    refused = site.run("restore", str(site.root / "backup.tar.enc"), "--passphrase-file",
                       str(wrong), cfg=cfg)
    assert refused.exit_code == 8, refused.output
    assert "passphrase" in refused.stderr
    assert list(fresh.iterdir()) == []
    assert sorted(str(p) for p in (site.root / "data").rglob("*")) == data_before
    restored = site.run("restore", str(site.root / "backup.tar.enc"), "--passphrase-file",
                        str(site.root / "passphrase"), cfg=cfg)
    assert restored.exit_code == 0, restored.output
    assert cfg.exists() and stat.S_IMODE(cfg.stat().st_mode) == 0o600
    _assert_everything_back(site, cfg, fresh)


def _small_disk(folder: Path, size: int) -> None:
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True)


def test_full_disk_during_backup_leaves_no_archive(site: Site) -> None:
    cfg = site.root / "fresh" / PROJECT / "harbor.cfg"
    config = load_config(cfg).config
    assert isinstance(config, Config)
    files = data_files(config, True)
    # room for the files and their tar headers (backup's own check passes), not for the
    # dump and the rest: the disk fills mid-way
    least = sum(i.st_size for _, _, i in files if stat.S_ISREG(i.st_mode)) + 512 * (len(files) + 16)
    small = site.root / "small-disk"
    _small_disk(small, (least // 4096 + 2) * 4096)
    try:
        full = site.run("backup", "-o", str(small / "backup.tar"), cfg=cfg)
        assert full.exit_code == 6, full.output
        assert "filled up" in full.stderr and "no partial archive was left" in full.stderr
        assert "needs about" in full.stderr
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)
    tiny = site.root / "tiny-disk"
    _small_disk(tiny, 64 << 10)
    try:
        refused = site.run("backup", "-o", str(tiny / "backup.tar"), cfg=cfg)
        assert refused.exit_code == 6, refused.output
        assert f"{tiny} has 64.0 KiB free, but the archive needs at least" in refused.stderr
        assert "Dumping" not in refused.stderr and list(tiny.iterdir()) == []
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
