"""install.sh's own logic, its functions called from a shell that sources it: which Python it
picks, and the `harborctl` link it puts on the PATH (in a temporary folder, never
/usr/local/bin) without ever replacing another program of that name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INSTALL_SH = Path(__file__).resolve().parent.parent.parent / "install.sh"
BASH = shutil.which("bash") or "/bin/bash"  # found once: some tests run with a bare PATH


def call(function: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = f'source "{INSTALL_SH}"; {function} "$@"'
    return subprocess.run([BASH, "-c", script, "install.sh", *args], capture_output=True,
                          text=True, env=env, check=False)


@pytest.fixture
def venv_command(tmp_path: Path) -> Path:
    command = tmp_path / "opt" / ".harborctl-venv" / "bin" / "harborctl"
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\necho ours\n")
    command.chmod(0o755)
    return command


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "usr-local-bin"
    folder.mkdir()
    return folder


def link_env(bin_dir: Path) -> dict[str, str]:
    return {**os.environ, "HARBORCTL_BIN_DIR": str(bin_dir),
            "PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_a_free_name_gets_the_link_and_harborctl_is_what_to_type(venv_command: Path,
                                                                 bin_dir: Path) -> None:
    run = call("link_harborctl", str(venv_command), env=link_env(bin_dir))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "harborctl\n"
    link = bin_dir / "harborctl"
    assert link.is_symlink() and os.readlink(link) == str(venv_command)
    assert f"Linked {link} -> {venv_command}" in run.stderr
    assert subprocess.run(["harborctl"], env=link_env(bin_dir), capture_output=True, text=True,
                          check=True).stdout == "ours\n"


def test_our_link_already_there_is_kept_quietly(venv_command: Path, bin_dir: Path) -> None:
    (bin_dir / "harborctl").symlink_to(venv_command)
    run = call("link_harborctl", str(venv_command), env=link_env(bin_dir))
    assert run.returncode == 0 and run.stdout == "harborctl\n" and run.stderr == ""
    assert os.readlink(bin_dir / "harborctl") == str(venv_command)


def test_another_program_of_that_name_is_never_replaced(venv_command: Path,
                                                        bin_dir: Path) -> None:
    other = bin_dir / "harborctl"
    other.write_text("#!/bin/sh\necho theirs\n")
    other.chmod(0o755)
    run = call("link_harborctl", str(venv_command), env=link_env(bin_dir))
    assert run.returncode == 0
    assert other.read_text() == "#!/bin/sh\necho theirs\n" and not other.is_symlink()
    assert run.stdout == f"{venv_command}\n"  # the full path is what to type
    assert f"{other} is another program" in run.stderr
    assert f"type its full path: {venv_command}" in run.stderr


@pytest.mark.parametrize("target", ["/usr/bin/true", "/nonexistent/harborctl"])
def test_a_link_to_something_else_is_never_replaced(venv_command: Path, bin_dir: Path,
                                                    target: str) -> None:
    (bin_dir / "harborctl").symlink_to(target)
    run = call("link_harborctl", str(venv_command), env=link_env(bin_dir))
    assert os.readlink(bin_dir / "harborctl") == target
    assert run.stdout == f"{venv_command}\n"


def test_no_writable_folder_prints_the_full_path(venv_command: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-bin"
    run = call("link_harborctl", str(venv_command), env=link_env(missing))
    assert run.stdout == f"{venv_command}\n"
    assert "not writable" in run.stderr and not missing.exists()


def test_an_earlier_harborctl_on_the_path_means_the_full_path(venv_command: Path, bin_dir: Path,
                                                              tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "harborctl").write_text("#!/bin/sh\n")
    (earlier / "harborctl").chmod(0o755)
    env = {**link_env(bin_dir), "PATH": f"{earlier}:{bin_dir}:/usr/bin:/bin"}
    run = call("link_harborctl", str(venv_command), env=env)
    assert (bin_dir / "harborctl").is_symlink()
    assert run.stdout == f"{venv_command}\n"
    assert "not the first place on the PATH" in run.stderr


def fake_python(folder: Path, name: str, works: bool) -> None:
    path = folder / name
    if works:
        path.symlink_to(sys.executable)
    else:
        path.write_text("#!/bin/sh\nexit 1\n")  # e.g. without venv/ensurepip
        path.chmod(0o755)


def test_the_newest_usable_python_on_the_path_is_chosen(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.13", works=False)
    fake_python(tmp_path, "python3.12", works=True)
    fake_python(tmp_path, "python3", works=True)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    env.pop("PYTHON", None)
    run = call("choose_python", env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{tmp_path / 'python3.12'}\n"


def test_no_usable_python_is_an_error_naming_what_to_install(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3", works=False)
    env = {**os.environ, "PATH": f"{tmp_path}"}
    env.pop("PYTHON", None)
    run = call("choose_python", env=env)
    assert run.returncode == 1 and run.stdout == ""
    assert "Python 3.9 or newer with venv" in run.stderr


def test_python_from_the_environment_is_checked(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3", works=False)
    run = call("choose_python", env={**os.environ, "PYTHON": str(tmp_path / "python3")})
    assert run.returncode == 1 and "PYTHON=" in run.stderr
    good = call("choose_python", env={**os.environ, "PYTHON": sys.executable})
    assert good.returncode == 0 and good.stdout == f"{sys.executable}\n"
