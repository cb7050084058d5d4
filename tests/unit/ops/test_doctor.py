"""`harborctl doctor` on a deployment of the fake engine: what it finds, and how it says so."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import harborctl.ops.doctor as doctor
from harborctl.config import load_config
from harborctl.engine.api.interface import EngineInfo
from harborctl.engine.converge import ports
from harborctl.errors import DockerUnavailableError
from harborctl.files.lock import OPERATION_LOCK_NAME, folder_lock
from harborctl.ops.diagnose import Deployment as Target
from harborctl.ops.diagnose import diagnose
from harborctl.ops.doctor import Check, check_certificate, check_engine_version
from harborctl.tls.making import generate_ca, generate_server_cert
from tests.unit.engine.fake_engine import FakeEngine, HealthScript
from tests.unit.ops.conftest import Deployment
from tests.unit.prepare_support import write_config

REAL_PORT_IS_FREE = ports.port_is_free
NOW = dt.datetime.now(doctor.UTC)


def checks_of(deployment: Deployment, **changes: Any) -> dict[str, Check]:
    config = load_config(deployment.config).config
    assert config is not None
    engine = deployment.engine
    target = replace(Target(config, deployment.folder, None, engine,
                    lambda cid, tail: engine.container_logs(cid, tail), NOW,
                    lambda host: ["192.0.2.10"], 1.0), **changes)
    return {check.name: check for check in diagnose(target)}


@pytest.fixture(autouse=True)
def roomy_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test machine's free space is not the subject (one test sets it back)."""
    monkeypatch.setattr(doctor, "LOW_DISK_BYTES", 0)


def test_a_healthy_deployment_is_all_ok(deployment: Deployment) -> None:
    checks = checks_of(deployment)
    assert {name: c.status for name, c in checks.items() if c.status != "OK"} == {}
    assert checks["engine"].detail == "Docker 24.0.7 (API 1.41)"
    assert checks["service core"].detail == "is running, healthy"
    assert checks["service log"].status == "OK"
    assert doctor.exit_status(list(checks.values())) == 0


def test_a_stopped_service_fails_with_its_last_log_lines(deployment: Deployment) -> None:
    engine = deployment.engine
    [core] = engine.by_service("core")
    engine.stop_container(core.id, 1)
    log = deployment.folder / "log"
    log.mkdir(exist_ok=True)
    (log / "core.log").write_text("".join(f"2026-12-01T13:00:0{i}+00:00 h core[1]: line {i}\n"
                                          for i in range(8)))
    checks = checks_of(deployment)
    assert checks["service core"].status == "FAIL"
    assert checks["service core"].detail.splitlines() == [
        "is exited", *(f"2026-12-01T13:00:0{i}+00:00 h core[1]: line {i}" for i in range(3, 8))]
    assert "harborctl start" in checks["service core"].hint
    assert checks["service registry"].status == "OK"
    assert doctor.exit_status(list(checks.values())) == 5


def test_a_service_without_a_file_shows_the_engines_log(deployment: Deployment) -> None:
    engine = deployment.engine
    [registry] = engine.by_service("registry")
    engine.remove_container(registry.id)
    engine.stop_container(engine.by_service("portal")[0].id, 1)
    checks = checks_of(deployment)
    assert checks["service registry"].detail == "has no container"
    assert checks["service portal"].detail.splitlines()[1:] == [
        "portal: starting", "portal: waiting for the database"]


def test_a_port_taken_by_another_program_fails(deployment: Deployment,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "port_is_free", REAL_PORT_IS_FREE)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("0.0.0.0", deployment.http_port))
        holder.listen()
        assert checks_of(deployment)["ports"].status == "OK"  # the proxy publishes it: ours
        engine = deployment.engine
        engine.stop_container(engine.by_service("proxy")[0].id, 1)
        check = checks_of(deployment)["ports"]
    assert check.status == "FAIL"
    assert check.detail == f"host port(s) {deployment.http_port} held by something else"


def test_a_hand_edited_compose_file_disagrees_with_the_state(deployment: Deployment) -> None:
    compose = deployment.folder / "docker-compose.yml"
    compose.write_text(compose.read_text() + "# edited\n")
    check = checks_of(deployment)["state"]
    assert check.status == "WARN" and "not the one harborctl last wrote" in check.detail
    (deployment.folder / "common" / "config" / "harborctl.json").unlink()
    assert "missing" in checks_of(deployment)["state"].detail


def test_restarts_and_clock_skew_are_warnings(deployment: Deployment) -> None:
    engine = deployment.engine
    engine.by_service("core")[0].restart_count = 4
    ahead = (NOW + dt.timedelta(minutes=2)).isoformat()
    engine.info = EngineInfo("24.0.7", ahead, "/var/lib/docker")
    checks = checks_of(deployment)
    assert checks["restarts"].status == "WARN"
    assert checks["restarts"].detail == "restarted by the engine: core 4 times"
    assert checks["clock"].status == "WARN" and "120 s ahead" in checks["clock"].detail


def test_an_unreachable_engine_fails_and_the_host_checks_still_run(
        deployment: Deployment) -> None:
    deployment.engine.fail("engine_info", DockerUnavailableError("cannot reach the engine"))
    checks = checks_of(deployment)
    assert checks["engine"].status == "FAIL"
    assert {"disk", "hostname", "certificate", "state", "ports"} <= set(checks)
    assert not any(name.startswith("service ") for name in checks)


@pytest.mark.parametrize(("version", "status"), [
    ("20.10.0", "WARN"), ("20.10.24+dfsg1", "WARN"), ("20.10.26", "WARN"), ("20.10.27", "OK"),
    ("19.03.15", "OK"), ("24.0.7", "OK"), ("", "OK")])
def test_engine_versions_with_the_network_deadlock(version: str, status: str) -> None:
    check = check_engine_version(version, "1.41")
    assert check.status == status
    assert ("moby/moby#46661" in check.detail) == (status == "WARN")


def test_hostname_that_does_not_resolve(deployment: Deployment) -> None:
    def nowhere(host: str) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    check = checks_of(deployment, resolve=nowhere)["hostname"]
    assert check.status == "WARN" and "harbor.example.com does not resolve" in check.detail


def test_low_disk_fails(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "LOW_DISK_BYTES", 1 << 62)
    assert checks_of(deployment)["disk"].status == "FAIL"


def https_config(folder: Path, days: int, now: dt.datetime) -> Path:
    ca = generate_ca("Test CA", now=now - dt.timedelta(days=1))
    server = generate_server_cert(ca, "harbor.example.com", days=days,
                                  now=now - dt.timedelta(days=1))
    (folder / "ca.crt").write_bytes(ca.cert_pem)
    (folder / "server.crt").write_bytes(server.cert_pem)
    key = folder / "server.key"
    key.write_bytes(server.key_pem)
    os.chmod(key, 0o600)
    return write_config(folder, f"ui_url_protocol = https\nssl_cert = {folder}/server.crt\n"
                                f"ssl_cert_key = {key}\n")


def test_an_expiring_certificate_is_a_warning_an_expired_one_fails(tmp_path: Path) -> None:
    now = dt.datetime.now(doctor.UTC)
    config = load_config(https_config(tmp_path, 10, now)).config
    assert config is not None
    soon = check_certificate(config, now)
    assert soon.status == "WARN" and "expires" in soon.detail
    later = check_certificate(config, now + dt.timedelta(days=30))
    assert later.status == "FAIL"
    fine = load_config(https_config(tmp_path, 200, now)).config
    assert fine is not None and check_certificate(fine, now).status == "OK"


def test_cli_json_is_a_list_of_checks_and_exit_5_on_a_failure(deployment: Deployment) -> None:
    result = deployment.run("doctor", "--json")
    assert result.exit_code == 0, result.output
    checks = json.loads(result.output)
    assert all(set(check) == {"name", "status", "detail", "hint"} for check in checks)
    assert {check["status"] for check in checks} <= {"OK", "WARN"}
    engine = deployment.engine
    engine.stop_container(engine.by_service("core")[0].id, 1)
    text = deployment.run("doctor")
    assert text.exit_code == 5
    assert "FAIL  service core" in text.output and "hint: see `harborctl logs core`" in \
        text.output
    assert text.output.splitlines()[-1].endswith("1 FAIL")


def test_cli_with_an_engine_gone(deployment: Deployment) -> None:
    FakeEngine.fail(deployment.engine, "api_version", DockerUnavailableError("gone"))
    result = deployment.run("doctor")
    assert result.exit_code == 5 and "FAIL  engine" in result.output


def test_a_folder_left_by_an_interrupted_restore_is_named_and_kept(
        deployment: Deployment) -> None:
    assert checks_of(deployment)["restore"].status == "OK"
    config = load_config(deployment.config).config
    assert config is not None
    left = config.paths.data_volume / ".harborctl-restore-k1lled"
    (left / "registry").mkdir(parents=True)
    (left / "registry" / "blob").write_bytes(b"x" * (3 << 20))
    check = checks_of(deployment)["restore"]
    assert check.status == "WARN" and f"{left} (3 MiB, " in check.detail
    assert check.hint.endswith(f"rm -rf {left}")
    assert (left / "registry" / "blob").exists()  # named, never removed


def test_no_removal_is_suggested_while_a_restore_may_be_using_the_folder(
        deployment: Deployment) -> None:
    config = load_config(deployment.config).config
    assert config is not None
    staging = config.paths.data_volume / ".harborctl-restore-running"
    staging.mkdir()
    with folder_lock(deployment.folder, "a restore", name=OPERATION_LOCK_NAME):
        check = checks_of(deployment)["restore"]
    assert check.status == "WARN" and "is running now" in check.detail
    assert str(staging) in check.detail and "rm -rf" not in check.hint
    assert "rm -rf" in checks_of(deployment)["restore"].hint  # it ended: the folder is left over


def test_a_service_docker_has_not_checked_yet_is_ok_when_its_own_check_passes(
        deployment: Deployment) -> None:
    """Up to 10 s after a start Docker says ``starting``: doctor runs the check itself."""
    from harborctl.engine.lifecycle.health import check_now

    engine = deployment.engine
    engine.health["core"] = HealthScript(healthy_after=None, probe_exit=0)
    engine.health["portal"] = HealthScript(healthy_after=None, probe_exit=1)
    checks = checks_of(deployment, check_now=lambda cid: check_now(engine, cid))
    assert checks["service core"].status == "OK"
    assert checks["service core"].detail.startswith("is running, healthy (its check passes")
    assert checks["service portal"].status == "FAIL"
    assert checks["service portal"].detail.splitlines()[0] == "is running, starting"
    without = checks_of(deployment)  # no way to run a check: Docker's word stands
    assert without["service core"].status == "FAIL"
