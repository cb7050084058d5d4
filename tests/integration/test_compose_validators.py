"""The rendered docker-compose.yml is accepted by docker-compose 1.29 and by Compose v2+."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_program

GOLDEN = Path(__file__).parent.parent / "unit" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def compose_v2() -> str:
    candidate = Path(sys.executable).parent / "docker-compose"
    if candidate.exists():
        return str(candidate)
    return require_program("docker-compose-v2")


@pytest.mark.validators
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_compose_config_accepts_rendered_file(case: str, flavour: str, tmp_path: Path) -> None:
    binary = require_program("/usr/bin/docker-compose") if flavour == "v1" else compose_v2()
    folder = GOLDEN / case
    run = subprocess.run([binary, "-f", str(folder / "docker-compose.yml"), "config", "-q"],
                         capture_output=True, text=True, cwd=folder, check=False,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    version = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    expected = "1.29" if flavour == "v1" else "v"
    assert expected in version.stdout + version.stderr


@pytest.mark.validators
def test_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validator can fail: a service with an unknown key is refused."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text('version: "2.3"\nservices:\n  a:\n    image: x\n    frobnicate: 1\n')
    run = subprocess.run([require_program("/usr/bin/docker-compose"), "-f", str(broken), "config",
                          "-q"], capture_output=True, text=True, check=False)
    assert run.returncode != 0


@pytest.mark.validators
@pytest.mark.parametrize("flavour", ["v1", "v2"])
@pytest.mark.parametrize(
    "password", ["it's", 'say "hi"', "x #y: z", "$HOME$$x", "{{ evil }}", "50%"]
)
def test_compose_reads_env_values_exactly(flavour: str, password: str, tmp_path: Path) -> None:
    """Both compose generations read back, from the rendered env files, exactly what harbor.cfg
    says, however the value looks."""
    import yaml

    from tests.unit.prepare_support import prepare_file, write_config

    binary = require_program("/usr/bin/docker-compose") if flavour == "v1" else compose_v2()
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("Adm1n-pass", password).replace("db-pass-1", password))
    prepare_file(cfg, tmp_path, token_bits=2048)
    run = subprocess.run([binary, "-f", str(tmp_path / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, cwd=tmp_path, check=False,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    services = yaml.safe_load(run.stdout)["services"]

    def read(service: str, key: str) -> str:
        # `config` prints a compose file again, where a literal '$' is written '$$'.
        return str(services[service]["environment"][key]).replace("$$", "$")

    assert read("postgresql", "POSTGRES_PASSWORD") == password
    assert read("adminserver", "HARBOR_ADMIN_PASSWORD") == password
