"""harbor.cfg (Harbor 1.7) -> harbor.yml (Harbor 2.15): every key carried over or listed as
dropped, and the output accepted by the 2.x check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harborctl.config import parse_text, read_config_file
from harborctl.config.migrate import migrate_cfg
from harborctl.config.yml import Validation2, parse_yaml_text, validate
from tests.unit.test_golden import BASE, CASES
from tests.unit.test_golden import OPERATOR_FILES as GOLDEN_FILES
from tests.unit.yml.support import formatted

ROOT = Path(__file__).parents[3]
SHIPPED = [ROOT / "harbor.cfg.example", ROOT / "tests" / "unit" / "data" / "harbor-1.7.5.cfg"]


def check_migrated(text: str) -> Validation2:
    return validate(parse_yaml_text(text, Path("harbor.yml")), file_exists=lambda _: True,
                    read_file=lambda path: GOLDEN_FILES[str(path)])


def accounted_for(cfg_text: str) -> None:
    raw = parse_text(cfg_text, Path("harbor.cfg"))
    migration = migrate_cfg(raw)
    moved = {old for old, _ in migration.moved}
    dropped = {d.key for d in migration.dropped}
    assert moved | dropped == set(raw.values), set(raw.values) - moved - dropped
    for item in migration.dropped:
        assert item.line == raw.values[item.key].line and item.where


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_harbor_cfg_converts_to_a_valid_harbor_yml(path: Path) -> None:
    text = path.read_text()
    # as shipped, the one problem is the one the 1.7 file has too: the placeholder hostname
    as_shipped = check_migrated(migrate_cfg(read_config_file(path)).text)
    assert [p.key for p in as_shipped.errors] == ["hostname"]
    edited = text.replace("reg.mydomain.com", "harbor.example.com")
    result = check_migrated(migrate_cfg(parse_text(edited, path)).text)
    assert result.config is not None, formatted(result)
    accounted_for(edited)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_golden_config_converts_to_a_valid_harbor_yml(case: str) -> None:
    text = BASE + CASES[case]
    migration = migrate_cfg(parse_text(text, Path("harbor.cfg")))
    result = check_migrated(migration.text)
    assert result.config is not None, formatted(result)
    assert result.config.admin_password == "Adm1n-pass"
    assert result.config.hostname == "harbor.example.com"
    accounted_for(text)


def migrated(cfg_text: str) -> dict[str, object]:
    loaded = yaml.safe_load(migrate_cfg(parse_text(BASE + cfg_text, Path("harbor.cfg"))).text)
    assert isinstance(loaded, dict)
    return loaded


def test_https_and_the_port_in_the_hostname() -> None:
    doc = migrated(CASES["https"])
    assert doc["https"] == {"port": 8443, "certificate": "/data/cert/server.crt",
                            "private_key": "/data/cert/server.key"}
    assert doc["http"] == {"port": 80}
    text = "hostname = harbor.example.com:8081\nharbor_admin_password = Adm1n-pass\n"
    doc = yaml.safe_load(migrate_cfg(parse_text(text, Path("harbor.cfg"))).text)
    assert doc["hostname"] == "harbor.example.com" and doc["http"] == {"port": 8081}


def test_external_database_and_redis() -> None:
    doc = migrated(CASES["external-db-redis"])
    assert doc["external_database"] == {"harbor": {
        "host": "db.example.com", "port": 5433, "username": "postgres", "password": "db-pass-1",
        "db_name": "registry", "ssl_mode": "disable"}}
    assert "database" not in doc and "redis" not in doc
    assert doc["external_redis"] == {"host": "cache.example.com:6379", "password": "r3d!s",
                                     "registry_db_index": 4, "jobservice_db_index": 5,
                                     "trivy_db_index": 5}


def test_storage_options_keep_their_meaning() -> None:
    doc = migrated(CASES["s3"])
    assert doc["storage_service"] == {"s3": {
        "region": "eu-west-1", "bucket": "harbor-images", "secure": True, "chunksize": 5242880,
        "accesskey": "AKIAEXAMPLE", "secretkey": "s3-secret"}}
    doc = migrated(CASES["custom-ca"])
    assert doc["storage_service"]["ca_bundle"] == "/etc/harbor/ca-bundle.pem"  # type: ignore[index]
    assert migrated(CASES["uaa"])["uaa"] == {"ca_file": "/etc/harbor/uaa-ca.pem"}


@pytest.mark.parametrize("password", [
    "p#ss w0rd", "it's", 'say "hi"', "yes", "0123", "ünïcödé", "a: b", "100%", "-dash", "*star"])
def test_passwords_and_paths_are_kept_byte_for_byte(password: str) -> None:
    text = (f"hostname = harbor.example.com\nharbor_admin_password = {password}\n"
            f"db_password = {password}\nlog_location = /srv/harbor logs/#1\n")
    result = check_migrated(migrate_cfg(parse_text(text, Path("harbor.cfg"))).text)
    config = result.config
    assert config is not None, formatted(result)
    assert config.admin_password == password and config.database.password == password
    assert str(config.log.location) == "/srv/harbor logs/#1"


def test_dropped_keys_say_where_they_went() -> None:
    text = (BASE + "auth_mode = ldap_auth\nldap_searchdn = cn=admin\nwith_notary = on\n"
            "email_server = smtp.example.com\nclair_db_password = c\nsecretkey_path = /keys\n"
            "redis_db_index = 1,2,3\n")
    migration = migrate_cfg(parse_text(text, Path("harbor.cfg")))
    where = {d.key: d.where for d in migration.dropped}
    assert where["auth_mode"].startswith("kept in 2.x's database as auth_mode: set it in the UI")
    assert "ldap_search_dn" in where["ldap_searchdn"]
    assert "notary" in where["with_notary"] and "v2.9" in where["with_notary"]
    assert "v2.7" in where["email_server"] and "clair" in where["clair_db_password"]
    assert "/data/secret/keys/secretkey" in where["secretkey_path"]
    assert "chartmuseum" in where["redis_db_index"]
    assert any("database is not migrated" in note for note in migration.notes)
