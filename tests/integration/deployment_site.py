"""One deployment of the goharbor test images for the real-engine tests of day-2 commands: a
root folder with the project folder, the data, the logs and whatever the test writes; the
commands run in-process through the CLI, docker and psql as an operator would type them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from click.testing import Result

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner

PASSWORD = "Adm1n-backup"
DB_PASSWORD = "db-pass-backup"


def registry_query(sql: str) -> str:
    """``sql``'s rows in the registry database of the running harbor-db container."""
    run = subprocess.run(["docker", "exec", "harbor-db", "sh", "-c",
                          'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U postgres '
                          f"-d registry -AtX -c \"{sql}\""],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def repo_digest(inspected: str) -> str:
    """The digest of `docker image inspect --format '{{json .RepoDigests}}'`'s output."""
    return str(json.loads(inspected)[0].split("@", 1)[1])


def remove_tags_of(docker_client: Any, host: str) -> None:
    """Every local tag of the registry at ``host`` (what the tests pushed and pulled)."""
    for image in docker_client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{host}:"):
                docker_client.images.remove(tag)


class Site:
    """One deployment: a root with the project folder, the data, the logs and the archives."""

    def __init__(self, root: Path, port: int, host: str, project: str) -> None:
        self.root = root
        self.port = port
        self.host = host
        # The project (and so its networks) is named after the folder: not "harbor", whose
        # networks other tests of the shared engine create and remove.
        self.project = root / project
        self.cfg = self.project / "harbor.cfg"
        self.docker_config = root / "docker-config"
        self.docker_config.mkdir(exist_ok=True)
        self.digests: dict[str, str] = {}
        self.kept: dict[str, bytes] = {}

    def write_cfg(self, extra: str = "") -> None:
        self.project.mkdir(exist_ok=True)
        self.cfg.write_text(
            f"hostname = {self.host}\nhttp_port = {self.port}\n"
            f"harbor_admin_password = {PASSWORD}\ndb_password = {DB_PASSWORD}\n"
            f"data_volume = {self.root}/data\nsecretkey_path = {self.root}/data\n"
            f"log_location = {self.root}/log\n" + extra)

    def run(self, *args: str, cfg: Path | None = None) -> Result:
        return cli_runner().invoke(cli, [args[0], "-c", str(cfg or self.cfg), *args[1:]])

    def down(self, *args: str, cfg: Path | None = None) -> Result:
        """down, once more when the engine still lists an endpoint of a container it has just
        removed (seen on this loaded machine beyond down's own 5 s of retries)."""
        result = self.run("down", *args, cfg=cfg)
        if result.exit_code == 1 and "active endpoints" in result.stderr:
            time.sleep(5)
            result = self.run("down", *args, cfg=cfg)
        return result

    @property
    def registry(self) -> str:
        return f"{self.host}:{self.port}"

    def docker(self, *args: str, stdin: str | None = None, check: bool = True
               ) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True,
                             check=False, timeout=300,
                             env={**os.environ, "DOCKER_CONFIG": str(self.docker_config)})
        if check:
            assert run.returncode == 0, f"docker {' '.join(args)}: {run.stdout}{run.stderr}"
        return run

    def login(self, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        return self.docker("login", self.registry, "-u", "admin", "--password-stdin",
                           stdin=password, check=False)

    def digest(self, image: str) -> str:
        return repo_digest(
            self.docker("image", "inspect", "--format", "{{json .RepoDigests}}", image).stdout)

    def psql(self, sql: str) -> str:
        return registry_query(sql)

    def secrets(self, project: Path | None = None) -> dict[str, bytes]:
        data, project = self.root / "data", project or self.project
        return {"secretkey": (data / "secretkey").read_bytes(),
                "token_key": (data / "secret/harborctl/token_private_key.pem").read_bytes(),
                "token_cert": (data / "secret/harborctl/token_root.crt").read_bytes(),
                "core_key": (project / "common/config/core/private_key.pem").read_bytes()}
