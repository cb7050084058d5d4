"""`harborctl config migrate` then `harborctl config check`, as an operator types them, on Harbor
1.7.5's shipped harbor.cfg, harborctl's harbor.cfg.example and every golden 1.7.5 config: the
harbor.yml written is one 2.x's check accepts, and every harbor.cfg key the command did not carry
over is listed with its line (the files the configs name exist, under a test folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from harborctl.config import parse_text
from tests.cli_runner import cli_runner
from tests.unit.test_golden import BASE, CASES, OPERATOR_FILES

ROOT = Path(__file__).parents[3]
SOURCES = {
    "shipped-1.7.5": (ROOT / "tests" / "unit" / "data" / "harbor-1.7.5.cfg").read_text(),
    "harbor.cfg.example": (ROOT / "harbor.cfg.example").read_text(),
    **{f"golden-{case}": BASE + text for case, text in CASES.items()},
}
CARRIED = re.compile(r"^  (\w+) -> ", re.M)
DROPPED = re.compile(r"^  harbor\.cfg:(\d+): (\w+): \S", re.M)


def on_this_host(text: str, folder: Path) -> str:
    """The config with the files it names under `folder` (CA bundles, keys; an https one's
    certificate is made by `harborctl gencert`, as a 1.7 operator's is there already) and the
    placeholder hostname an operator must change changed."""
    text = text.replace("reg.mydomain.com", "harbor.example.com")
    text = text.replace("/etc/harbor/", f"{folder}/etc/harbor/")
    text = text.replace("/data/cert/", f"{folder}/cert/")
    for name, content in OPERATOR_FILES.items():
        path = folder / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if not re.search(r"^ssl_cert\s*=", text, re.M):
        text += f"ssl_cert = {folder}/cert/server.crt\nssl_cert_key = {folder}/cert/server.key\n"
    return text


def write_cfg(text: str, folder: Path) -> Path:
    cfg = folder / "harbor.cfg"
    cfg.write_text(on_this_host(text, folder))
    if re.search(r"^ui_url_protocol\s*=\s*https", cfg.read_text(), re.M):
        made = cli_runner().invoke(cli, ["gencert", "-c", str(cfg)])
        assert made.exit_code == 0, made.output
    return cfg


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_config_migrate_writes_a_harbor_yml_that_config_check_accepts(
        tmp_path: Path, source: str) -> None:
    cfg = write_cfg(SOURCES[source], tmp_path)
    migrated = cli_runner().invoke(cli, ["config", "migrate", str(cfg)])
    assert migrated.exit_code == 0, migrated.output
    keys = parse_text(cfg.read_text(), cfg).values
    carried = set(CARRIED.findall(migrated.stdout))
    dropped = {key: int(line) for line, key in DROPPED.findall(migrated.stdout)}
    assert carried | set(dropped) == set(keys), set(keys) ^ (carried | set(dropped))
    for key, line in dropped.items():
        assert keys[key].line == line, (key, line)
    assert f"{len(dropped)} key(s) not carried over:" in migrated.stdout
    assert f"next: name it on every command, e.g. ./install.sh -c {tmp_path / 'harbor.yml'}" \
        in migrated.stdout
    checked = cli_runner().invoke(cli, ["config", "check", "-c", str(tmp_path / "harbor.yml")])
    assert checked.exit_code == 0, migrated.output + checked.output
    assert "harbor.yml is valid (0 error(s)" in checked.stdout


def test_the_check_above_can_fail(tmp_path: Path) -> None:
    """The same steps without the certificate an https config names: check refuses it."""
    cfg = write_cfg(BASE + CASES["https"], tmp_path)
    (tmp_path / "cert" / "server.crt").unlink()
    assert cli_runner().invoke(cli, ["config", "migrate", str(cfg)]).exit_code == 3
    checked = cli_runner().invoke(cli, ["config", "check", "-c", str(tmp_path / "harbor.yml")])
    assert checked.exit_code == 3 and "https.certificate" in checked.output
