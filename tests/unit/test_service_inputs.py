"""What the real Harbor 1.7.5 services read from the rendered tree, read the way they read it:
env files as the engine passes them, YAML as the Go services unmarshal it, the compose file as
the engine starts it. Each case is a setting an earlier harborctl lost or broke."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harborctl.config import parse_text, validate
from harborctl.engine.compose.syntax import parse_env_file
from harborctl.plan import plan_deployment
from harborctl.tls.making import generate_ca
from tests import yaml_load as yaml
from tests.cli_runner import cli_runner
from tests.unit.prepare_support import FIXED_SECRETS

PROJECT = Path("/srv/harbor")
BASE = ("hostname = harbor.example.com\nharbor_admin_password = Adm1n-pass\n"
        "db_password = db-pass-1\n")
HTTPS = "ui_url_protocol = https\n"


def reader(files: dict[str, bytes]) -> Callable[[Path], bytes]:
    def read(path: Path) -> bytes:
        if str(path) not in files:
            raise FileNotFoundError(2, "No such file or directory")
        return files[str(path)]
    return read


class Rendered:
    def __init__(self, text: str, files: dict[str, bytes] | None = None) -> None:
        result = validate(parse_text(BASE + text, Path("harbor.cfg")),
                          file_exists=lambda _: True, read_file=reader(files or {}))
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


CHARTS = "with_chartmuseum = on\n"


def _chart_env(provider: str, options: str) -> dict[str, str]:
    text = (CHARTS + f"registry_storage_provider_name = {provider}\n"
            f"registry_storage_provider_config = {options}\n")
    return Rendered(text).env("chartserver/env")


def test_charts_stay_on_the_host_with_filesystem_storage() -> None:
    env = Rendered(CHARTS).env("chartserver/env")
    assert (env["STORAGE"], env["STORAGE_LOCAL_ROOTDIR"]) == ("local", "/chart_storage")


def test_charts_follow_s3_storage_into_the_bucket() -> None:
    env = _chart_env("s3", "region: eu-west-1, bucket: harbor-images, accesskey: AKIA1, "
                     "secretkey: s3cr/t+x, regionendpoint: https://s3.example.com, "
                     "rootdirectory: /harbor")
    assert {k: v for k, v in env.items() if k.startswith(("STORAGE", "AWS_"))} == {
        "STORAGE": "amazon", "STORAGE_AMAZON_BUCKET": "harbor-images",
        "STORAGE_AMAZON_PREFIX": "/harbor", "STORAGE_AMAZON_REGION": "eu-west-1",
        "STORAGE_AMAZON_ENDPOINT": "https://s3.example.com",
        "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s3cr/t+x"}


def test_charts_follow_azure_swift_and_oss_storage() -> None:
    azure = _chart_env("azure", "accountname: acct, accountkey: a2V5, container: charts")
    assert (azure["STORAGE"], azure["STORAGE_MICROSOFT_CONTAINER"], azure["AZURE_STORAGE_ACCOUNT"],
            azure["AZURE_STORAGE_ACCESS_KEY"], azure["STORAGE_MICROSOFT_PREFIX"]) == (
        "microsoft", "charts", "acct", "a2V5", "/azure/harbor/charts")
    assert "STORAGE_LOCAL_ROOTDIR" not in azure
    swift = _chart_env("swift", "authurl: https://keystone.example.com/v3, username: u, "
                       "password: p, container: c, region: r1, tenant: t, domain: d, "
                       "prefix: /h")
    assert {k: v for k, v in swift.items() if k.startswith(("STORAGE", "OS_"))} == {
        "STORAGE": "openstack", "STORAGE_OPENSTACK_CONTAINER": "c",
        "STORAGE_OPENSTACK_PREFIX": "/h", "STORAGE_OPENSTACK_REGION": "r1",
        "OS_AUTH_URL": "https://keystone.example.com/v3", "OS_USERNAME": "u",
        "OS_PASSWORD": "p", "OS_PROJECT_NAME": "t", "OS_DOMAIN_NAME": "d"}
    oss = _chart_env("oss", "accesskeyid: id1, accesskeysecret: sec1, region: oss-cn-beijing, "
                     "bucket: b1")
    assert {k: v for k, v in oss.items() if k.startswith(("STORAGE", "ALIBABA_"))} == {
        "STORAGE": "alibaba", "STORAGE_ALIBABA_BUCKET": "b1",
        "STORAGE_ALIBABA_ENDPOINT": "oss-cn-beijing.aliyuncs.com",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "id1", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sec1"}


def test_charts_on_swift_need_the_region() -> None:
    text = BASE + CHARTS + ("registry_storage_provider_name = swift\n"
                            "registry_storage_provider_config = authurl: https://k.example.com, "
                            "username: u, password: p, container: c\n")
    result = validate(parse_text(text, Path("harbor.cfg")))
    assert [(p.key, p.line) for p in result.errors] == [("registry_storage_provider_config", 6)]
    assert "region" in result.errors[0].message


def test_object_storage_settings_the_drivers_need_are_required() -> None:
    text = BASE + ("registry_storage_provider_name = azure\n"
                   "registry_storage_provider_config = accountname: acct\n")
    result = validate(parse_text(text, Path("harbor.cfg")))
    problems = [(p.key, p.line, p.message) for p in result.problems if p.severity == "error"]
    assert problems == [("registry_storage_provider_config", 5,
                         "azure storage needs accountkey, container")]


def _problems(text: str, files: dict[str, bytes]) -> list[tuple[str, int | None, str]]:
    result = validate(parse_text(BASE + text, Path("harbor.cfg")), read_file=reader(files))
    return [(p.key, p.line, p.message) for p in result.problems if p.severity == "error"]


def test_filesystem_options_reach_the_registry() -> None:
    text = ("registry_storage_provider_config = maxthreads: 50, "
            "rootdirectory: /storage/images\n")
    storage = Rendered(text).yaml("registry/config.yml")["storage"]
    assert storage["filesystem"] == {"rootdirectory": "/storage/images", "maxthreads": 50}
    assert Rendered("").yaml("registry/config.yml")["storage"]["filesystem"] == {
        "rootdirectory": "/storage"}


def test_filesystem_options_the_registry_would_refuse_or_lose() -> None:
    problems = _problems("registry_storage_provider_config = maxthreads: many, "
                         "rootdirectory: /var/images\n", {})
    assert [(key, line) for key, line, _ in problems] == [
        ("registry_storage_provider_config", 4)] * 2
    assert "not a whole number" in problems[0][2] and "outside /storage" in problems[1][2]
    text = BASE + "registry_storage_provider_config = maxthreads: 5, cache: on\n"
    warnings = [p.message for p in validate(parse_text(text, Path("harbor.cfg"))).warnings
                if p.key == "registry_storage_provider_config"]
    assert warnings == ["the filesystem driver has no option 'cache'; it is ignored",
                        "maxthreads 5 is below the registry's minimum; it uses 25"]


GCS_KEY = b'{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}'
GCS = ("registry_storage_provider_name = gcs\n"
       "registry_storage_provider_config = bucket: harbor-gcs, keyfile: /etc/gcs/key.json, "
       "rootdirectory: /harbor\n")


def test_gcs_key_is_copied_where_registry_and_chartmuseum_read_it() -> None:
    rendered = Rendered(GCS + CHARTS, {"/etc/gcs/key.json": GCS_KEY})
    storage = rendered.yaml("registry/config.yml")["storage"]["gcs"]
    assert storage == {"bucket": "harbor-gcs", "keyfile": "/etc/registry/gcs.key",
                       "rootdirectory": "/harbor"}
    assert rendered.files["common/config/registry/gcs.key"] == GCS_KEY
    assert rendered.files["common/config/chartserver/gcs.key"] == GCS_KEY
    env = rendered.env("chartserver/env")
    assert {k: v for k, v in env.items() if k.startswith(("STORAGE", "GOOGLE"))} == {
        "STORAGE": "google", "STORAGE_GOOGLE_BUCKET": "harbor-gcs",
        "STORAGE_GOOGLE_PREFIX": "/harbor",
        "GOOGLE_APPLICATION_CREDENTIALS": "/etc/chartserver/gcs.key"}
    services = rendered.services
    assert "./common/config/chartserver:/etc/chartserver:z" in services["chartmuseum"]["volumes"]
    assert "./common/config/registry/:/etc/registry/:z" in services["registry"]["volumes"]
    # With object storage no chart is kept on the host.
    assert not any("/chart_storage" in v for v in services["chartmuseum"]["volumes"])


def test_gcs_key_must_be_a_readable_json_key() -> None:
    assert _problems(GCS, {}) == [("registry_storage_provider_config", 5,
                                   "/etc/gcs/key.json cannot be read: No such file or directory")]
    assert _problems(GCS, {"/etc/gcs/key.json": b"not json"}) == [
        ("registry_storage_provider_config", 5, "/etc/gcs/key.json is not a JSON key file")]


def _ca_pem() -> bytes:
    return generate_ca("Storage CA").cert_pem


def test_custom_ca_bundle_is_mounted_where_the_images_install_it() -> None:
    pem = _ca_pem()
    rendered = Rendered("registry_custom_ca_bundle = /etc/pki/storage-ca.pem\n" + CHARTS
                        + "with_clair = on\nclair_db_password = db-pass-1\n",
                        {"/etc/pki/storage-ca.pem": pem})
    assert rendered.files["common/config/custom-ca-bundle.crt"] == pem
    mount = "./common/config/custom-ca-bundle.crt:/harbor_cust_cert/custom-ca-bundle.crt:z"
    services = rendered.services
    for name in ("registry", "clair", "chartmuseum"):
        assert mount in services[name]["volumes"], name
    assert not any("custom-ca" in v for v in services["core"]["volumes"])
    assert not any("custom-ca" in v for v in Rendered("").services["registry"]["volumes"])


def test_custom_ca_bundle_must_be_pem_certificates() -> None:
    text = "registry_custom_ca_bundle = /etc/pki/storage-ca.pem\n"
    assert _problems(text, {}) == [("registry_custom_ca_bundle", 4,
                                    "/etc/pki/storage-ca.pem cannot be read: "
                                    "No such file or directory")]
    problems = _problems(text, {"/etc/pki/storage-ca.pem": b"hello\n"})
    assert [(key, line) for key, line, _ in problems] == [("registry_custom_ca_bundle", 4)]
    assert "PEM certificate" in problems[0][2]


UAA = "auth_mode = uaa_auth\nuaa_endpoint = uaa.example.com\n"


def test_uaa_ca_is_copied_where_uaa_ca_root_points() -> None:
    pem = _ca_pem()
    rendered = Rendered(UAA + "uaa_ca_cert = /etc/pki/uaa.pem\n", {"/etc/pki/uaa.pem": pem})
    root = rendered.env("core/env")["UAA_CA_ROOT"]
    assert root == "/etc/core/certificates/uaa_ca.pem"
    assert rendered.files["common/config/core/certificates/uaa_ca.pem"] == pem
    assert "./common/config/core/certificates/:/etc/core/certificates/:z" in \
        rendered.services["core"]["volumes"]
    # Harbor's example value is a placeholder: no CA, no problem.
    plain = Rendered(UAA + "uaa_ca_cert = /path/to/ca.pem\n")
    assert "common/config/core/certificates/uaa_ca.pem" not in plain.files


def test_uaa_ca_must_exist_and_be_pem() -> None:
    text = UAA + "uaa_ca_cert = /etc/pki/uaa.pem\n"
    assert [(k, line) for k, line, _ in _problems(text, {})] == [("uaa_ca_cert", 6)]
    assert [(k, line) for k, line, _ in _problems(text, {"/etc/pki/uaa.pem": b"x"})] == [
        ("uaa_ca_cert", 6)]


def test_jobservice_health_check_passes_on_any_http_answer_and_fails_without_one() -> None:
    """Its API needs the secret: a 401 proves it serves; nothing listening must not pass."""
    import http.server
    import shutil
    import subprocess
    import threading

    test = Rendered("").services["jobservice"]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "curl" and ":8080/" in test[-1]
    if shutil.which("curl") is None:
        return

    class Unauthorized(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Unauthorized)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    port = server.server_address[1]
    try:
        command = [part.replace(":8080/", f":{port}/") for part in test[1:]]
        assert subprocess.run(command, timeout=10).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    assert subprocess.run(command, timeout=10).returncode != 0


def _directives(conf: str) -> list[str]:
    return [" ".join(line.split()) for line in conf.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_nginx_keeps_the_operator_hooks_and_the_timed_log() -> None:
    http = _directives(Rendered("").text("common/config/nginx/nginx.conf"))
    https = _directives(Rendered(HTTPS).text("common/config/nginx/nginx.conf"))
    for conf in (http, https):
        assert "multi_accept on;" in conf
        assert "access_log /dev/stdout timed_combined;" in conf
        formats = [line for line in conf if line.startswith("log_format timed_combined")]
        assert len(formats) == 1
        assert "$request_time $upstream_response_time" in formats[0]
        assert "include /etc/nginx/conf.d/harbor.http.*.conf;" in conf
    assert "include /etc/nginx/conf.d/harbor.https.*.conf;" in https
    assert "include /etc/nginx/conf.d/harbor.https.*.conf;" not in http


def test_config_check_names_the_file_line_and_key_of_a_bad_ca_bundle(tmp_path: Path) -> None:

    from harborctl.cli.app import cli

    (tmp_path / "ca.pem").write_text("not a certificate\n")
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(BASE + f"registry_custom_ca_bundle = {tmp_path}/ca.pem\n"
                   f"auth_mode = uaa_auth\nuaa_ca_cert = {tmp_path}/missing.pem\n")
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(cfg)])
    assert result.exit_code == 3
    assert f"{cfg}:4: registry_custom_ca_bundle: " in result.output
    assert f"{cfg}:6: uaa_ca_cert: {tmp_path}/missing.pem cannot be read" in result.output


def test_storage_credentials_are_masked_like_every_other_secret() -> None:
    text = BASE + ("registry_storage_provider_name = s3\nregistry_storage_provider_config = "
                   "region: r, bucket: b, accesskey: AKIA1, secretkey: s3cr/t+x\n")
    config = validate(parse_text(text, Path("harbor.cfg"))).config
    assert config is not None
    deployment = plan_deployment(config, FIXED_SECRETS, PROJECT)
    assert "s3cr/t+x" in deployment.masked and "s3cr/t+x" in config.secret_values()
