"""backup and restore of a Harbor 2.15 deployment (harbor.yml, the 2.15 look-alikes) on the real
engine: an image pushed and a row in the registry database come back byte for byte after
`down --purge-data`, with the 2.15 secrets (data_volume/secret/...) kept.

The tests share one deployment and run in order. backup and restore do not read a harbor.yml
yet: both are marked as expected failures (strict, so that they must be unmarked once they
pass); the install and push before them must pass."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.e2e.operator import add_hosts_entry, busybox_image, free_port, remove_hosts_entries
from tests.images.build import V2_RELEASE, ensure_images

pytestmark = pytest.mark.docker
HOST = "harbor2.backup.test"
PASSWORD = "Adm1n-backup-v2"
PROJECT = "harborbk2"  # not "harbor": other tests of the shared engine make its networks
SERVICES = 9
# What stops them today (`harborctl backup -c harbor.yml` exits 2 at once, nothing written).
NOT_YET = pytest.mark.xfail(strict=True, reason=(
    "backup/restore read only Harbor 1.7's harbor.cfg: cli/backup_cmds.py loads the config with "
    "prepare.load_for_prepare (harbor.cfg's reader: 'is a Harbor 2.x harbor.yml, which the "
    "reader of Harbor 1.7's harbor.cfg cannot read', exit 2); ops/backup.py and ops/restore.py "
    "take a 1.7 Config (paths.data_volume, secrets at secret_paths(), config/harbor.cfg in the "
    "archive, the 1.7 component flags), not Config2 and secret_paths_v2()"))


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
        out = self.docker("image", "inspect", "--format", "{{json .RepoDigests}}", image).stdout
        return str(json.loads(out)[0].split("@", 1)[1])

    def psql(self, sql: str) -> str:
        run = subprocess.run(["docker", "exec", "harbor-db", "sh", "-c",
                              'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U postgres '
                              f"-d registry -AtX -c \"{sql}\""],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    def secrets(self) -> dict[str, bytes]:
        secret = self.root / "data" / "secret"
        return {name: (secret / name).read_bytes() for name in (
            "keys/secretkey", "core/private_key.pem", "registry/root.crt")}


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
        for image in docker_client.images.list():
            for tag in image.tags:
                if tag.startswith(f"{HOST}:"):
                    docker_client.images.remove(tag)


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


@NOT_YET
def test_backup_of_a_2_15_deployment(site: Site) -> None:
    result = site.run("backup", "-o", str(site.root / "backup.tar"))
    assert result.exit_code == 0, result.output
    assert (site.root / "backup.tar").is_file()


@NOT_YET
def test_restore_after_down_purge_data(site: Site) -> None:
    assert (site.root / "backup.tar").is_file(), "the backup failed (above)"
    purged = site.run("down", "--purge-data", "--yes")
    assert purged.exit_code == 0, purged.output
    assert not (site.root / "data" / "secret" / "keys" / "secretkey").exists()
    restored = site.run("restore", str(site.root / "backup.tar"))
    assert restored.exit_code == 0, restored.output
    target = f"{site.registry}/library/kept:1"
    site.docker("rmi", target)
    site.docker("pull", target)
    assert site.repo_digest(target) == site.digest
    assert site.psql("SELECT password FROM harbor_user_standin WHERE username = 'dev2'") == \
        "hash-of-Dev2-pass"
    assert site.secrets() == site.kept
    again = site.run("install")
    assert again.exit_code == 0, again.output
    assert f"{SERVICES} noop" in again.stdout, again.stdout
