"""backup and restore of a Harbor 2.15 deployment (harbor.yml, the 2.15 look-alikes) on the real
engine: an image pushed and a row in the registry database come back byte for byte after
`down --purge-data`, with the 2.15 secrets (data_volume/secret/...) kept.

The tests share one deployment and run in order."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from harborctl.cli.app import cli
from harborctl.ops.backup_format import Header
from harborctl.ops.backup_reader import Member, read_archive
from tests.cli_runner import cli_runner
from tests.e2e.operator import add_hosts_entry, busybox_image, free_port, remove_hosts_entries
from tests.images.build import V2_RELEASE, ensure_images
from tests.integration.deployment_site import registry_query, remove_tags_of, repo_digest

pytestmark = pytest.mark.docker
HOST = "harbor2.backup.test"
PASSWORD = "Adm1n-backup-v2"
PROJECT = "harborbk2"  # not "harbor": other tests of the shared engine make its networks
SERVICES = 9
# Every secret and key of a 2.15 deployment, under data_volume (plan.v2.secret_paths_v2).
SECRET_FILES = {
    "secretkey": "secret/keys/secretkey", "token_key_pem": "secret/core/private_key.pem",
    "token_cert_pem": "secret/registry/root.crt",
    **{name: f"secret/harborctl/{name}" for name in (
        "core_secret", "jobservice_secret", "registry_password", "registry_htpasswd",
        "csrf_key", "robot_prefix")}}


class Site:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.project = root / PROJECT
        self.yml = self.project / "harbor.yml"
        self.docker_config = root / "docker-config"
        self.docker_config.mkdir(exist_ok=True)
        self.digest = ""
        self.kept: dict[str, bytes] = {}

    def write_yml(self) -> None:
        self.project.mkdir(exist_ok=True)
        self.yml.write_text(f"""_version: 2.15.0
hostname: {HOST}
http:
  port: {self.port}
harbor_admin_password: "{PASSWORD}"
database:
  password: "db-pass-backup-v2"
data_volume: {self.root}/data
jobservice:
  max_job_workers: 2
  job_loggers: [STD_OUTPUT]
  logger_sweeper_duration: 1
notification:
  webhook_job_max_retry: 3
  webhook_job_http_client_timeout: 3
log:
  level: info
  local:
    location: {self.root}/log
""")

    def run(self, *args: str) -> Result:
        return cli_runner().invoke(cli, [args[0], "-c", str(self.yml), *args[1:]])

    @property
    def registry(self) -> str:
        return f"{HOST}:{self.port}"

    def docker(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True,
                             check=False, timeout=300,
                             env={**os.environ, "DOCKER_CONFIG": str(self.docker_config)})
        assert run.returncode == 0, f"docker {' '.join(args)}: {run.stdout}{run.stderr}"
        return run

    def repo_digest(self, image: str) -> str:
        return repo_digest(
            self.docker("image", "inspect", "--format", "{{json .RepoDigests}}", image).stdout)

    def psql(self, sql: str) -> str:
        return registry_query(sql)

    def secrets(self) -> dict[str, bytes]:
        data = self.root / "data"
        return {name: (data / path).read_bytes() for name, path in SECRET_FILES.items()}


def small_members(archive: Path) -> tuple[Header, dict[str, bytes]]:
    """The header; every member's name, the content of all but the registry's data."""
    found: dict[str, bytes] = {}
    headers: list[Header] = []

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        keep = not member.name.startswith("data/")
        content = b"".join(chunk for chunk in chunks if keep)
        found[member.name] = content

    read_archive(archive, None, visit, headers.append)
    return headers[0], found


@pytest.fixture(scope="module")
def site(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    ensure_images(docker_client, V2_RELEASE)
    s = Site(tmp_path_factory.mktemp("backup-v2"), free_port())
    s.write_yml()
    add_hosts_entry(HOST)
    try:
        yield s
    finally:
        s.run("down")
        remove_hosts_entries()
        remove_tags_of(docker_client, HOST)


def test_install_push_and_write_a_row(site: Site, docker_client: Any) -> None:
    installed = site.run("install")
    assert installed.exit_code == 0, installed.output
    site.docker("login", site.registry, "-u", "admin", "--password-stdin", stdin=PASSWORD)
    target = f"{site.registry}/library/kept:1"
    site.docker("tag", busybox_image(docker_client), target)
    site.docker("push", target)
    site.digest = site.repo_digest(target)
    site.psql("CREATE TABLE harbor_user_standin (username text primary key, password text); "
              "INSERT INTO harbor_user_standin VALUES ('dev2', 'hash-of-Dev2-pass')")
    site.kept = site.secrets()


def test_backup_of_a_2_15_deployment(site: Site) -> None:
    archive = site.root / "backup.tar"
    result = site.run("backup", "-o", str(archive))
    assert result.exit_code == 0, result.output
    header, found = small_members(archive)
    assert header.harbor_release.startswith("2.15."), header
    assert header.components == {"trivy": False}, header
    assert found["config/harbor.yml"] == site.yml.read_bytes()
    for name, value in site.kept.items():
        assert found[f"secrets/{name}"] == value, name
    dump = b"".join(v for n, v in sorted(found.items()) if n.startswith("database/"))
    assert b"hash-of-Dev2-pass" in dump and b"CREATE DATABASE registry" in dump
    blob = site.digest.split(":", 1)[1]  # the manifest's own blob
    assert f"data/registry/docker/registry/v2/blobs/sha256/{blob[:2]}/{blob}/data" in found
    assert sum(n.startswith("data/registry/docker/registry/v2/blobs/") for n in found) >= 3


def test_restore_after_down_purge_data(site: Site) -> None:
    assert (site.root / "backup.tar").is_file(), "the backup failed (above)"
    purged = site.run("down", "--purge-data", "--yes")
    assert purged.exit_code == 0, purged.output
    assert not (site.root / "data" / "secret" / "keys" / "secretkey").exists()
    restored = site.run("restore", str(site.root / "backup.tar"))
    assert restored.exit_code == 0, restored.output
    target = f"{site.registry}/library/kept:1"
    site.docker("logout", site.registry)
    site.docker("login", site.registry, "-u", "admin", "--password-stdin", stdin=PASSWORD)
    site.docker("rmi", target)
    site.docker("pull", target)
    assert site.repo_digest(target) == site.digest
    assert site.psql("SELECT password FROM harbor_user_standin WHERE username = 'dev2'") == \
        "hash-of-Dev2-pass"
    assert site.secrets() == site.kept
    again = site.run("install")
    assert again.exit_code == 0, again.output
    assert f"{SERVICES} noop" in again.stdout, again.stdout
