"""`harborctl logs` on a deployment of the fake engine, with log files written by the test."""

from __future__ import annotations

from tests.unit.ops.conftest import Deployment


def write_logs(deployment: Deployment) -> None:
    folder = deployment.folder / "log"
    folder.mkdir(exist_ok=True)
    (folder / "core.log").write_text(
        "".join(f"2026-12-01T13:00:0{i}+00:00 h core[1]: core {i}\n" for i in range(0, 9, 2)))
    (folder / "registry.log").write_text(
        "".join(f"2026-12-01T13:00:0{i}+00:00 h registry[1]: registry {i}\n"
                for i in range(1, 9, 2)))


def test_two_services_merged_by_time_with_their_names(deployment: Deployment) -> None:
    write_logs(deployment)
    result = deployment.run("logs", "core", "registry", "-n", "2")
    assert result.exit_code == 0, result.output
    assert [line.rsplit(": ", 1)[-1] for line in result.output.splitlines()] == [
        "registry 5", "core 6", "registry 7", "core 8"]
    assert result.output.splitlines()[0].startswith("registry | ")


def test_one_service_is_shown_as_written(deployment: Deployment) -> None:
    write_logs(deployment)
    result = deployment.run("logs", "core", "-n", "1")
    assert result.output == "2026-12-01T13:00:08+00:00 h core[1]: core 8\n"


def test_the_log_service_falls_back_to_the_engine(deployment: Deployment) -> None:
    result = deployment.run("logs", "log")
    assert result.exit_code == 0, result.output
    assert result.output == "log: starting\nlog: waiting for the database\n"
    assert deployment.engine.names_of("container_logs") == ["log"]


def test_an_unknown_service_lists_the_services(deployment: Deployment) -> None:
    result = deployment.run("logs", "nope")
    assert result.exit_code == 2
    assert "no service named nope" in result.output
    assert "the services are: log, registry" in result.output


def test_a_bad_since_is_a_usage_error(deployment: Deployment) -> None:
    result = deployment.run("logs", "--since", "soon")
    assert result.exit_code == 2 and "not a duration" in result.output
