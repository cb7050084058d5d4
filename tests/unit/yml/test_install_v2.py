"""The staged install of a harbor.yml on the fake engine: the same stages as harbor.cfg's, the
2.15 services created in order, converged to nothing on a second run, one key changed ->
only the services that read it recreated."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import harborctl.prepare_v2 as prepare_v2_module
from harborctl.engine.api.session import EngineSession
from harborctl.install import InstallResult, install, login_hint
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.yml.test_prepare_v2 import write

pytest.importorskip("bcrypt")
pytestmark = pytest.mark.usefixtures("fast", "free_ports", "small_keys")


@pytest.fixture
def small_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare_v2_module, "build_v2",
                        functools.partial(prepare_v2_module.build_v2, token_bits=2048))


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


def run(path: Path, engine: FakeEngine, report: Lines | None = None,
        flags: dict[str, bool] | None = None) -> InstallResult:
    return install(path, path.parent, report if report is not None else Lines(), flags,
                   session=EngineSession(engine=engine), timeout=5)


def test_install_of_a_harbor_yml(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.registry = "goharbor/"
    path = write(tmp_path)
    report = Lines()
    result = run(path, engine, report, {"trivy": True})
    assert "  harbor.yml is valid" in report
    assert "  host ports 80, 1514 are free or ours" in report
    assert any(line.startswith("pulled goharbor/harbor-core:v2.15.2") for line in report)
    created = [a.service for a in result.converged.actions if a.kind == "create"]
    assert sorted(created) == sorted(["log", "registry", "registryctl", "postgresql", "core",
                                      "portal", "jobservice", "redis", "proxy",
                                      "trivy-adapter"])
    assert login_hint(result.config)[:2] == ["Harbor is ready: http://harbor.example.com",
                                             "  docker login harbor.example.com -u admin"]
    second = run(path, engine)  # trivy remembered, secrets kept: nothing to do
    assert {a.kind for a in second.converged.actions} == {"noop"}

    path.write_text(path.read_text().replace("level: info", "level: debug"))
    third = run(path, engine)
    recreated = sorted(a.service for a in third.converged.actions if a.kind == "recreate")
    # log.level reaches core, jobservice, registryctl, trivy (env files) and registry (config)
    assert recreated == ["core", "jobservice", "registry", "registryctl", "trivy-adapter"]


def test_logs_of_a_harbor_yml_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import harborctl.cli.ops_cmds as ops_cmds
    from harborctl.cli.app import cli

    engine = FakeEngine()
    engine.registry = "goharbor/"
    path = write(tmp_path)
    run(path, engine)
    monkeypatch.setattr(ops_cmds, "engine_session", lambda: EngineSession(engine=engine))
    logs = tmp_path / "logs"  # log.local.location of the file write() makes
    (logs / "core.log").write_text("2026-12-01T13:00:01+00:00 h core[1]: ping\n")
    result = CliRunner().invoke(cli, ["logs", "core", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "2026-12-01T13:00:01+00:00 h core[1]: ping\n"


def test_doctor_and_its_bundle_for_a_harbor_yml_deployment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    from click.testing import CliRunner

    import harborctl.cli.ops_cmds as ops_cmds
    from harborctl.cli.app import cli

    engine = FakeEngine()
    engine.registry = "goharbor/"
    path = write(tmp_path)
    run(path, engine)
    monkeypatch.setattr(ops_cmds, "engine_session", lambda: EngineSession(engine=engine))
    bundle = tmp_path / "support.tar.gz"
    result = CliRunner().invoke(cli, ["doctor", "-c", str(path), "--bundle", str(bundle)])
    assert "certificate" in result.output and "plain http: no certificate" in result.output
    assert "service core" in result.output and "0 FAIL" in result.output
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
        files = {name: archive.extractfile(name).read()  # type: ignore[union-attr]
                 for name in names if archive.getmember(name).isfile()}
    assert any(name.endswith("harbor.yml") for name in names)
    everything = b"".join(files.values())
    password = (tmp_path / "data/secret/harborctl/registry_password").read_bytes()
    for secret in (b"Adm1n-pass", b"db-pass-1", password):
        assert secret not in everything
