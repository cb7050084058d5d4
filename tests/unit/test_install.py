"""The staged install on the fake engine: each thing done once, and its failures."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

import harborctl.prepare as prepare_module
from harborctl.engine.api.session import EngineSession
from harborctl.errors import ConfigError, FilesystemError, HarborctlError, UnhealthyError
from harborctl.install import InstallResult, check_data_volume, find_bundle, install, login_hint
from tests.unit.engine.fake_engine import FakeEngine, HealthScript
from tests.unit.prepare_support import write_config

pytestmark = pytest.mark.usefixtures("fast", "free_ports", "small_keys")


@pytest.fixture
def small_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token-signing key in 2048 bits: the product's 4096 take seconds to make."""
    monkeypatch.setattr(prepare_module, "build",
                        functools.partial(prepare_module.build, token_bits=2048))


@pytest.fixture
def engine() -> FakeEngine:
    fake = FakeEngine()
    fake.registry = "goharbor/"
    return fake


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


Run = Callable[..., InstallResult]


@pytest.fixture
def run(tmp_path: Path, engine: FakeEngine) -> Run:
    config = write_config(tmp_path)

    def go(report: Lines | None = None, timeout: float = 5) -> InstallResult:
        return install(config, tmp_path, report if report is not None else Lines(),
                       session=EngineSession(engine=engine), timeout=timeout)
    return go


def test_an_engine_with_the_stop_deadlock_is_named_once_in_step_0(
        run: Run, engine: FakeEngine) -> None:
    engine.info = type(engine.info)("20.10.24+dfsg1", "", "/var/lib/docker")
    report = Lines()
    run(report)
    warned = [line for line in report if "moby/moby#46661" in line]
    assert len(warned) == 1
    assert report.index(warned[0]) < report.index("Step 1: images")
    assert "Docker 20.10.24+dfsg1 has a known deadlock" in warned[0]
    assert "20.10.27" in warned[0]


def test_fresh_install_then_a_second_that_changes_nothing(run: Run, engine: FakeEngine,
                                                          tmp_path: Path) -> None:
    report = Lines()
    result = run(report)
    steps = [line for line in report if line.startswith("Step")]
    assert steps == ["Step 0: checking the environment", "Step 1: images", "Step 2: prepare",
                     "Step 3: existing instance", "Step 4: starting"]
    assert "  Docker engine 24.0.7 answers" in report and "  harbor.cfg is valid" in report
    assert not any("moby" in line for line in report)
    assert "  host ports 80, 1514 are free or ours" in report
    assert any(line.startswith("pulled goharbor/harbor-core:") for line in report)
    assert {a.kind for a in result.converged.actions} == {"create"}
    assert len(result.converged.actions) == 10
    assert (tmp_path / "docker-compose.yml").is_file()
    assert (tmp_path / ".harborctl-services").is_file()
    assert engine.names_of("list_containers").count("") == 2  # the project's, and every name

    engine.calls.clear()
    again = Lines()
    second = run(again)
    assert {a.kind for a in second.converged.actions} == {"noop"}
    assert "  configuration unchanged" in again
    assert again[-1] == f"{tmp_path.name}: everything is up to date"
    assert len(engine.names_of("list_containers")) == 1
    assert len(engine.names_of("list_images")) == 2  # what step 1 needs, what the plan needs
    assert not engine.names_of("pull_image") and not engine.names_of("create_container")


def test_harbor_cfg_is_validated_and_the_certificate_checked_once(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    validate, check = prepare_module.validate, prepare_module.check_certificate

    def counted_validate(*args: object, **kwargs: object) -> object:
        calls.append("validate")
        return validate(*args, **kwargs)  # type: ignore[arg-type]

    def counted_check(*args: object) -> object:
        calls.append("certificate")
        return check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare_module, "validate", counted_validate)
    monkeypatch.setattr(prepare_module, "check_certificate", counted_check)
    run()
    assert calls == ["validate", "certificate"]


def test_a_busy_port_stops_the_install_before_anything_is_written(
    run: Run, engine: FakeEngine, tmp_path: Path, free_ports: set[int]
) -> None:
    free_ports.add(1514)
    with pytest.raises(HarborctlError, match=r"host port\(s\) 1514 already in use") as caught:
        run()
    assert caught.value.hint is not None and "ss -ltnp" in caught.value.hint
    assert not (tmp_path / "docker-compose.yml").exists()
    assert not engine.names_of("pull_image")


def test_ports_of_our_own_running_containers_are_ours(run: Run, free_ports: set[int]) -> None:
    run()
    free_ports.update({80, 1514})  # held by the proxy and log containers themselves
    assert {a.kind for a in run().converged.actions} == {"noop"}


def test_a_hand_edited_compose_file_is_what_counts(run: Run, tmp_path: Path,
                                                   free_ports: set[int]) -> None:
    run()
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(compose.read_text().replace('"127.0.0.1:1514:10514"',
                                                   '"127.0.0.1:1514:10514"\n      - "9999:9999"'))
    report = Lines()
    result = run(report)
    assert "  host ports 80, 1514, 9999 are free or ours" in report
    assert any(w.startswith("warning: ") and "edited by hand" in w for w in result.warnings)
    assert [a.service for a in result.converged.actions if a.kind == "recreate"] == ["log"]
    free_ports.add(9998)
    compose.write_text(compose.read_text().replace('"9999:9999"', '"9998:9999"'))
    with pytest.raises(HarborctlError, match=r"host port\(s\) 9998 already in use"):
        run()


def test_a_service_that_never_becomes_healthy(run: Run, engine: FakeEngine) -> None:
    engine.health["core"] = HealthScript(healthy_after=None)
    with pytest.raises(UnhealthyError, match=r"^service core \(harbor-core\) did not become "
                                             "healthy") as caught:
        run(timeout=0.2)
    assert caught.value.exit_code == 5


def test_an_invalid_harbor_cfg_touches_nothing(run: Run, engine: FakeEngine,
                                               tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(cfg.read_text() + "http_port = eighty\n")
    with pytest.raises(ConfigError):
        run()
    assert [name for name, _ in engine.calls] == []
    assert not (tmp_path / "docker-compose.yml").exists()


def test_images_that_cannot_be_had(run: Run, engine: FakeEngine) -> None:
    engine.registry = ""
    with pytest.raises(HarborctlError, match="image.s. not available on this host") as caught:
        run()
    assert "pull access denied" in caught.value.message


def test_bundle_and_login_hint_and_data_volume(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    assert find_bundle(cfg, None) is None
    (tmp_path / "harbor.v1.7.5.tar.gz").write_bytes(b"")
    assert find_bundle(cfg, None) == tmp_path / "harbor.v1.7.5.tar.gz"
    with pytest.raises(HarborctlError, match="does not exist"):
        find_bundle(cfg, tmp_path / "nope.tar.gz")
    config = prepare_module.load_for_prepare(cfg, tmp_path).config
    assert login_hint(config)[:2] == ["Harbor is ready: http://harbor.example.com",
                                      "  docker login harbor.example.com -u admin"]
    assert isinstance(check_data_volume(config), list)  # a warning only when space is low
    (tmp_path / "data").write_text("a file, not a folder")
    with pytest.raises(FilesystemError, match="is not a writable folder"):
        check_data_volume(config)
