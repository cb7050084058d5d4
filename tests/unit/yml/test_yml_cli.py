"""The CLI with a harbor.yml: config check picks the 2.x profile from the file name, prepare
checks it and says plainly what this version cannot do yet, config migrate writes harbor.yml."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.unit.yml.support import DATA, OTHER_SIDE

VALID = OTHER_SIDE.split("external_redis:")[0].replace(
    "external_database:", "storage_service:\n  filesystem:\nexternal_database:") + (
    "jobservice:\n  max_job_workers: 10\n  job_loggers: [FILE]\n  logger_sweeper_duration: 1\n"
    "notification:\n  webhook_job_max_retry: 3\n  webhook_job_http_client_timeout: 3\n"
    "log:\n  level: info\n  local:\n    location: /var/log/harbor\n")
CFG = "hostname = harbor.example.com\nharbor_admin_password = Adm1n-pass\ndb_password = p#1\n"


def test_config_check_reads_a_harbor_yml(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID)
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert "is valid (0 error(s), 1 warning(s))" in result.stdout


def test_config_check_of_a_harbor_yml_reports_lines_and_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yaml"  # .yaml selects the 2.x profile too
    path.write_text(VALID.replace("203.0.113.10", "127.0.0.1").replace("port: 5433",
                                                                        "port: many"))
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(path), "--json"])
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert [(p["line"], p["key"]) for p in payload["problems"] if p["severity"] == "error"] == [
        (2, "hostname"), (10, "external_database.harbor.port")]


def test_config_check_of_the_template_as_shipped(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_bytes((DATA / "harbor-2.15.yml").read_bytes())
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(path)])
    assert result.exit_code == 3
    assert f"{path}:3: hostname: is still the example reg.mydomain.com" in result.stdout
    assert f"{path}:10: https.certificate: is still the example path" in result.stdout


def test_prepare_with_a_harbor_yml_reports_every_problem_first(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID.replace("203.0.113.10", "reg.mydomain.com"))
    bad = cli_runner().invoke(cli, ["prepare", "-c", str(path)])
    assert bad.exit_code == 3 and f"{path}:2: hostname" in bad.stderr
    assert not (tmp_path / "common").exists() and not (tmp_path / "docker-compose.yml").exists()


def test_the_harbor_cfg_reader_refuses_a_harbor_yml(tmp_path: Path) -> None:
    # every command dispatches on the format first; this guard keeps any later caller of the
    # 1.7 reader from misreading a harbor.yml as 'key = value' lines
    from harborctl.config import load_config
    from harborctl.errors import UsageError

    path = tmp_path / "harbor.yml"
    path.write_text(VALID)
    with pytest.raises(UsageError, match="is a Harbor 2.x harbor.yml, which the reader of"):
        load_config(path)


def test_flags_of_the_other_profile_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID)
    notary = cli_runner().invoke(cli, ["prepare", "-c", str(path), "--with-notary"])
    assert notary.exit_code == 2 and "Harbor 2.x has no notary" in notary.stderr
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(CFG)
    trivy = cli_runner().invoke(cli, ["prepare", "-c", str(cfg), "--with-trivy"])
    assert trivy.exit_code == 2 and "--with-trivy does not apply" in trivy.stderr


def test_migrate_writes_a_private_harbor_yml_that_checks(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(CFG + "auth_mode = ldap_auth\n")
    result = cli_runner().invoke(cli, ["config", "migrate", str(cfg)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "harbor.yml"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert yaml.safe_load(out.read_text())["database"]["password"] == "p#1"
    assert "harbor.cfg:4: auth_mode: kept in 2.x's database as auth_mode" in result.stdout
    assert "note: the database is not migrated" in result.stdout
    check = cli_runner().invoke(cli, ["config", "check", "-c", str(out)])
    assert check.exit_code == 0, check.output


def test_migrate_never_overwrites_without_force(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(CFG)
    out = tmp_path / "mine.yml"
    out.write_text("keep me\n")
    refused = cli_runner().invoke(cli, ["config", "migrate", str(cfg), "-o", str(out)])
    assert refused.exit_code == 2 and "pass --force" in refused.stderr
    assert out.read_text() == "keep me\n"
    link = tmp_path / "link.yml"
    link.symlink_to(tmp_path / "nowhere.yml")  # a dangling link counts as existing
    assert cli_runner().invoke(cli, ["config", "migrate", str(cfg), "-o", str(link)]
                               ).exit_code == 2
    forced = cli_runner().invoke(cli, ["config", "migrate", str(cfg), "-o", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text().startswith("# harbor.yml for Harbor v2.15")


def test_migrate_to_stdout_keeps_the_report_on_stderr(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(CFG)
    result = cli_runner().invoke(cli, ["config", "migrate", str(cfg), "-o", "-"])
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["hostname"] == "harbor.example.com"
    assert "carried over" in result.stderr and not (tmp_path / "harbor.yml").exists()


def test_migrate_exits_3_when_the_result_still_needs_edits(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(CFG.replace("harbor.example.com", "reg.mydomain.com"))
    result = cli_runner().invoke(cli, ["config", "migrate", str(cfg)])
    assert result.exit_code == 3 and (tmp_path / "harbor.yml").exists()
    assert "hostname: is still the example" in result.stdout


def test_migrate_refuses_a_harbor_yml_as_source(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID)
    result = cli_runner().invoke(cli, ["config", "migrate", str(path)])
    assert result.exit_code == 2 and "already a harbor.yml" in result.stderr


def test_without_c_a_folder_holding_only_harbor_yml_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "harbor.yml").write_text(VALID)
    result = cli_runner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0 and "harbor.yml is valid" in result.stdout
    (tmp_path / "harbor.cfg").write_text(CFG)  # both: harbor.cfg, as before harbor.yml existed
    result = cli_runner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0 and "harbor.cfg is valid" in result.stdout


def test_gencert_makes_the_certificate_harbor_yml_names(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert" / "server.crt", tmp_path / "cert" / "server.key"
    path = tmp_path / "harbor.yml"
    path.write_text(VALID.replace("203.0.113.10", "harbor.example.com") + (
        f"https:\n  port: 8443\n  certificate: {cert}\n  private_key: {key}\n"))
    assert cli_runner().invoke(cli, ["config", "check", "-c", str(path)]).exit_code == 3
    made = cli_runner().invoke(cli, ["gencert", "-c", str(path)])
    assert made.exit_code == 0, made.output
    assert "server certificate for harbor.example.com" in made.stdout
    assert "harbor.example.com:8443/ca.crt" in made.stdout  # https.port reaches the CA's path
    assert cert.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    check = cli_runner().invoke(cli, ["config", "check", "-c", str(path)])
    assert check.exit_code == 0, check.output


def test_gencert_names_the_harbor_yml_line_it_cannot_use(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID + "https:\n  certificate: cert/server.crt\n")
    result = cli_runner().invoke(cli, ["gencert", "-c", str(path)])
    assert result.exit_code == 3
    assert f"{path}:31: https.certificate: 'cert/server.crt' is a relative path" in result.stderr
    assert "https.private_key: missing" in result.stderr


def test_trust_and_certs_read_a_harbor_yml(tmp_path: Path) -> None:
    cert = tmp_path / "cert" / "server.crt"
    path = tmp_path / "harbor.yml"
    path.write_text(VALID.replace("203.0.113.10", "harbor.example.com") + (
        f"https:\n  port: 8443\n  certificate: {cert}\n"
        f"  private_key: {tmp_path}/cert/server.key\n"))
    assert cli_runner().invoke(cli, ["gencert", "-c", str(path)]).exit_code == 0
    trust = cli_runner().invoke(cli, ["trust", "-c", str(path), "--print"])
    assert trust.exit_code == 0, trust.output
    assert f"would write /etc/docker/certs.d/harbor.example.com:8443/ca.crt from " \
           f"{tmp_path}/cert/ca.crt" in trust.stdout
    certs = cli_runner().invoke(cli, ["certs", "-c", str(path)])
    assert certs.exit_code == 0, certs.output
    assert f"server: {cert}" in certs.stdout and "names: harbor.example.com" in certs.stdout
    http = tmp_path / "plain.yml"
    http.write_text(VALID)
    plain = cli_runner().invoke(cli, ["trust", "-c", str(http), "--print"])
    assert plain.exit_code == 0 and "insecure-registries" in plain.stdout
