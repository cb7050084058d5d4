"""What an operator has and types, for the end-to-end tests: an unpacked bundle folder, a hosts
entry for the registry's name, and the commands ./install.sh, harborctl, docker and curl."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
HOSTS = Path("/etc/hosts")
HOSTS_MARK = "# harborctl-e2e"
# What an operator unpacks: the installer, harborctl's sources and the example config.
BUNDLE_FILES = ("install.sh", "pyproject.toml", "setup.py", "README.md", "harbor.cfg.example",
                "harbor.yml.example", "harborctl", "templates", "scripts/harborctl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def add_hosts_entry(name: str) -> None:
    text = HOSTS.read_text()
    if f" {name} " not in text:
        HOSTS.write_text(text.rstrip("\n") + f"\n127.0.0.1 {name} {HOSTS_MARK}\n")


def remove_hosts_entries() -> None:
    lines = HOSTS.read_text().splitlines(keepends=True)
    HOSTS.write_text("".join(line for line in lines if HOSTS_MARK not in line))


def unpack_bundle(folder: Path) -> None:
    """Lay out harborctl as an operator receives it (no .git, no tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        source = REPO / name
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, folder / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, folder / name)


@dataclass
class Operator:
    """One operator's machine: the bundle folder, the docker client's own config folder."""

    folder: Path
    docker_config: Path
    hostname: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # install.sh links `harborctl` into this folder instead of the host's /usr/local/bin;
        # it comes first on the PATH, as /usr/local/bin does on an operator's host.
        bin_dir = self.folder.parent / "usr-local-bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "DOCKER_CONFIG": str(self.docker_config),
                    "HARBORCTL_BIN_DIR": str(bin_dir),
                    "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        self.env.pop("DOCKER_HOST", None)

    def sh(self, *args: str, stdin: str | None = None, timeout: float = 600,
           check: bool = True) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(list(args), cwd=self.folder, env=self.env, input=stdin,
                             capture_output=True, text=True, timeout=timeout, check=False)
        if check and run.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {run.returncode}\n"
                                 f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
        return run

    def harborctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`harborctl` by name, as the README and install.sh say to type it."""
        return self.sh("harborctl", *args, check=check)

    def docker(self, *args: str, stdin: str | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.sh("docker", *args, stdin=stdin, check=check)

    def login(self, registry: str, password: str, check: bool = True
              ) -> subprocess.CompletedProcess[str]:
        return self.docker("login", registry, "-u", "admin", "--password-stdin", stdin=password,
                           check=check)

    def curl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.sh("curl", "-sS", "--max-time", "10", *args, check=check)

    def set_config(self, **values: str) -> None:
        """Edit harbor.cfg as an operator would: replace a key's line or add it."""
        cfg = self.folder / "harbor.cfg"
        lines = cfg.read_text().splitlines()
        for key, value in values.items():
            for index, line in enumerate(lines):
                if line.split("=", 1)[0].strip() == key and not line.startswith("#"):
                    lines[index] = f"{key} = {value}"
                    break
            else:
                lines.append(f"{key} = {value}")
        cfg.write_text("\n".join(lines) + "\n")


def busybox_image(docker_client: Any) -> str:
    """A 2 MB image to push and pull: busybox on scratch, built once."""
    tag = "harborctl-e2e/busybox:1"
    if docker_client.images.list(name=tag):
        return tag
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        tar.add("/bin/busybox", arcname="busybox")
        dockerfile = b"FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"true\"]\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag,
                               labels={"harborctl.test": "1"}, rm=True)
    return tag


def repo_digest(op: Operator, image: str) -> str:
    """The registry digest the docker client recorded for a pushed or pulled image."""
    out = op.docker("image", "inspect", "--format", "{{json .RepoDigests}}", image).stdout
    return str(json.loads(out)[0].split("@", 1)[1])


def push_and_pull_back(op: Operator, image: str, target: str) -> str:
    """Push ``image`` as ``target``, remove it locally and pull it back; the digest, which the
    pull must give again."""
    op.docker("tag", image, target)
    op.docker("push", target)
    digest = repo_digest(op, target)
    op.docker("rmi", target)
    op.docker("pull", target)
    assert repo_digest(op, target) == digest
    return digest
