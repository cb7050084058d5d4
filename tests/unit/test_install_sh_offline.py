"""install.sh in an unpacked offline bundle (a wheels/ folder beside it) installs harborctl with
--no-index from those wheels; in a source tree it installs the tree. A stand-in venv records
what pip was asked (no real pip, no network)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

INSTALL_SH = Path(__file__).resolve().parent.parent.parent / "install.sh"


def run_install_sh(folder: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    shutil.copy2(INSTALL_SH, folder / "install.sh")
    venv = folder / ".harborctl-venv"
    (venv / "bin").mkdir(parents=True)
    record = folder / "pip-args"
    python = venv / "bin/python"
    python.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    command = venv / "bin/harborctl"
    command.write_text("#!/bin/sh\nexit 0\n")
    for script in (python, command):
        script.chmod(0o755)
    (folder / "bin").mkdir()
    env = {**os.environ, "HARBORCTL_BIN_DIR": str(folder / "bin"),
           "PIP_INDEX_URL": "http://127.0.0.1:9/"}
    run = subprocess.run(["bash", str(folder / "install.sh")], cwd=folder, env=env,
                         capture_output=True, text=True, check=False)
    return run, record.read_text().split("\n")[:-1] if record.exists() else []


def test_from_a_bundle_pip_gets_no_index_and_the_bundled_wheels(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels/harborctl-0.1.0-py3-none-any.whl").write_bytes(b"PK")
    run, args = run_install_sh(tmp_path)
    assert run.returncode == 0, run.stderr
    assert args[:3] == ["-m", "pip", "install"]
    assert args[-4:] == ["--no-index", "--find-links", str(tmp_path / "wheels"), "harborctl"]


def test_from_a_source_tree_pip_installs_the_tree(tmp_path: Path) -> None:
    repo = INSTALL_SH.parent
    for name in ("harborctl", "templates"):
        (tmp_path / name).symlink_to(repo / name)
    (tmp_path / "scripts").mkdir()
    for name in ("scripts/harborctl", "pyproject.toml", "setup.py"):
        shutil.copy2(repo / name, tmp_path / name)
    run, args = run_install_sh(tmp_path)
    assert run.returncode == 0, run.stderr
    assert args[-1] == str(tmp_path) and "--no-index" not in args
