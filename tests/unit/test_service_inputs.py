"""What the real Harbor 1.7.5 services read from the rendered tree, read the way they read it:
env files as the engine passes them, YAML as the Go services unmarshal it, the compose file as
the engine starts it. Each case is a setting an earlier harborctl lost or broke."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harborctl.config import parse_text, validate
from harborctl.engine.syntax import parse_env_file
from harborctl.plan import plan_deployment
from tests.unit.prepare_support import FIXED_SECRETS

PROJECT = Path("/srv/harbor")
BASE = ("hostname = harbor.example.com\nharbor_admin_password = Adm1n-pass\n"
        "db_password = db-pass-1\n")
HTTPS = "ui_url_protocol = https\n"


class Rendered:
    def __init__(self, text: str) -> None:
        result = validate(parse_text(BASE + text, Path("harbor.cfg")),
                          file_exists=lambda _: True)
        assert result.config is not None, result.problems
        deployment = plan_deployment(result.config, FIXED_SECRETS, PROJECT,
                                     server_cert=(b"CERT\n", b"KEY\n"))
        self.files = {str(f.path.relative_to(PROJECT)): f.content for f in deployment.files
                      if f.path.is_relative_to(PROJECT)}

    def text(self, name: str) -> str:
        return self.files[name].decode()

    def env(self, name: str) -> dict[str, str]:
        return parse_env_file(self.text(f"common/config/{name}"))

    def yaml(self, name: str) -> Any:
        return yaml.safe_load(self.files[f"common/config/{name}"])

    def json(self, name: str) -> Any:
        return yaml.safe_load(self.files[f"common/config/{name}"])

    @property
    def services(self) -> dict[str, Any]:
        compose: dict[str, Any] = yaml.safe_load(self.files["docker-compose.yml"])
        return dict(compose["services"])


EXTERNAL_DB = "db_host = db.example.com\ndb_port = 5433\n"


def test_notary_keeps_the_bundled_database_where_its_users_exist() -> None:
    rendered = Rendered(HTTPS + EXTERNAL_DB + "with_notary = on\n")
    services = rendered.services
    assert "postgresql" in services
    assert services["notary-server"]["depends_on"]["postgresql"] == {
        "condition": "service_healthy"}
    assert services["notary-signer"]["depends_on"]["postgresql"] == {
        "condition": "service_healthy"}
    for name in ("server-config.postgres.json", "signer-config.postgres.json"):
        url = rendered.json(f"notary/{name}")["storage"]["db_url"]
        assert "@postgresql:5432/" in url, url
    assert "@postgresql:5432/" in rendered.env("notary/server_env")["DB_URL"]
    assert "@postgresql:5432/" in rendered.env("notary/signer_env")["DB_URL"]
    # Harbor's own data stays on the external server; nothing waits for the bundled one.
    assert rendered.env("adminserver/env")["POSTGRESQL_HOST"] == "db.example.com"
    assert "postgresql" not in services["core"]["depends_on"]
    assert "postgresql" not in services["adminserver"]["depends_on"]


def test_clair_on_the_bundled_database_keeps_it_with_an_external_db_host() -> None:
    rendered = Rendered(EXTERNAL_DB + "with_clair = on\nclair_db_password = clair-pw\n")
    services = rendered.services
    assert "postgresql" in services
    assert services["clair"]["depends_on"]["postgresql"] == {"condition": "service_healthy"}
    source = rendered.yaml("clair/config.yaml")["clair"]["database"]["options"]["source"]
    assert source.startswith("postgresql://postgres:clair-pw@postgresql:5432/")
    # The bundled server exists for clair alone: its superuser gets clair's password.
    assert rendered.env("db/env")["POSTGRES_PASSWORD"] == "clair-pw"


def test_external_clair_database_needs_no_bundled_one() -> None:
    rendered = Rendered(EXTERNAL_DB + "with_clair = on\nclair_db_host = clairdb.example.com\n")
    services = rendered.services
    assert "postgresql" not in services
    assert "postgresql" not in services["clair"]["depends_on"]
    assert "log" in services["clair"]["depends_on"]


def test_bundled_database_is_not_waited_for_by_clair_on_an_external_one() -> None:
    rendered = Rendered("with_clair = on\nclair_db_host = clairdb.example.com\n")
    assert "postgresql" not in rendered.services["clair"]["depends_on"]


def test_clair_password_must_be_the_bundled_superusers() -> None:
    text = BASE + "with_clair = on\nclair_db_password = other\n"
    result = validate(parse_text(text, Path("harbor.cfg")), file_exists=lambda _: True)
    assert [(p.severity, p.key, p.line) for p in result.problems if p.key.startswith("clair")
            ] == [("warning", "clair_db_password", 5)]
    text = BASE + "with_clair = on\nclair_db_password = db-pass-1\n"
    problems = validate(parse_text(text, Path("harbor.cfg"))).problems
    assert [p for p in problems if p.key.startswith("clair")] == []


def test_chart_url_is_empty_for_the_1_7_core() -> None:
    """1.7.5's core joins CHART_URL onto a namespace path: an absolute URL breaks the index."""
    env = Rendered(HTTPS + "with_chartmuseum = on\n").env("chartserver/env")
    assert "CHART_URL" in env and env["CHART_URL"] == ""


def test_reload_key_changes_exactly_when_a_reloadable_setting_does() -> None:
    """adminserver re-applies its env only when RESET=true and RELOAD_KEY differs from the key
    it stored: the key must follow the settings, and stay put when nothing changed."""
    def admin(text: str) -> dict[str, str]:
        return Rendered("reload_config = true\n" + text).env("adminserver/env")

    first = admin("auth_mode = ldap_auth\nldap_url = ldap://ldap.example.com\n")
    assert first["RESET"] == "true" and first["RELOAD_KEY"] != ""
    again = admin("auth_mode = ldap_auth\nldap_url = ldap://ldap.example.com\n")
    assert again["RELOAD_KEY"] == first["RELOAD_KEY"]
    for changed in ("auth_mode = ldap_auth\nldap_url = ldap://other.example.com\n",
                    "auth_mode = db_auth\n",
                    "email_server = smtp.example.com\n",
                    "self_registration = off\n",
                    "token_expiration = 60\n",
                    "project_creation_restriction = adminonly\n"):
        assert admin(changed)["RELOAD_KEY"] != first["RELOAD_KEY"], changed


def test_without_reload_nothing_is_re_applied() -> None:
    for text in ("reload_config = false\n", ""):  # Harbor's default, when the key is absent
        env = Rendered(text).env("adminserver/env")
        assert (env["RESET"], env["RELOAD_KEY"]) == ("false", ""), text
