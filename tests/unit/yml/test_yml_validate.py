"""harbor.yml (Harbor v2.15): every documented key read into the model, every problem reported
at its line with its key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harborctl.config.yml import check_yml, parse_yaml_text
from harborctl.config.yml.keys import KNOWN_KEYS
from tests.unit.yml.support import DATA, EVERY_KEY, OTHER_SIDE, check, formatted


def test_harbors_template_as_shipped_names_exactly_what_to_edit() -> None:
    result = check_yml(DATA / "harbor-2.15.yml", file_exists=lambda _: False)
    errors = [(p.line, p.key) for p in result.errors]
    assert errors == [(3, "hostname"), (10, "https.certificate"), (11, "https.private_key")]
    assert [p.key for p in result.warnings] == ["harbor_admin_password"]
    assert result.config is None


def test_the_template_once_edited_is_valid() -> None:
    text = (DATA / "harbor-2.15.yml").read_text()
    text = text.replace("reg.mydomain.com", "harbor.example.com")
    text = text.replace("/your/certificate/path", "/etc/harbor/server.crt")
    text = text.replace("/your/private/key/path", "/etc/harbor/server.key")
    result = check(text)
    assert result.config is not None, formatted(result)
    config = result.config
    assert config.protocol == "https" and config.https is not None
    assert (config.http_port, config.https.port) == (80, 443)
    assert config.database.password == "root123" and not config.database.external
    assert config.database.pool.max_idle_conns == 100
    assert config.jobservice.job_loggers == ("STD_OUTPUT", "FILE")
    assert config.upload_purging.enabled and config.upload_purging.age == "168h"
    assert config.cache_expire_hours is None  # cache.enabled: false
    assert config.proxy.components == ("core", "jobservice", "trivy")
    assert config.storage.driver == "filesystem" and config.storage.options == ()


def test_every_documented_key_is_read() -> None:
    every = check(EVERY_KEY)
    other = check(OTHER_SIDE)
    agent = EVERY_KEY.replace("    endpoint: http://jaeger.example.com:14268/api/traces\n",
                              "    agent_host: jaeger-agent\n    agent_port: 6832\n")
    assert every.config is not None and other.config is not None
    assert formatted(every) == []
    agent_config = check(agent).config
    assert agent_config is not None and agent_config.trace is not None
    assert agent_config.trace.jaeger is not None
    assert agent_config.trace.jaeger.agent_port == 6832
    # between them the files set every key harborctl knows: none is left untested
    keys = set().union(*(parse_yaml_text(text, Path("a")).items
                         for text in (EVERY_KEY, OTHER_SIDE, agent)))
    assert KNOWN_KEYS - keys == set()
    c = every.config
    assert c.internal_tls is not None and c.strong_ssl_ciphers
    assert c.internal_tls.dir == Path("/etc/harbor/tls/internal")
    assert len(c.internal_tls.files) == 13  # the CA and six pairs (trivy's only with trivy)
    assert c.ipv6 and c.external_url == "https://registry.example.com"
    assert c.storage.driver == "s3" and dict(c.storage.options)["secure"] is True
    assert c.storage.ca_bundle is not None and c.storage.redirect_disabled
    assert c.trivy.timeout == "10m0s" and c.trivy.github_token == "ghp-token-value"
    assert c.jobservice.max_job_duration_hours == 48
    assert (c.jobservice.webhook_job_max_retry, c.jobservice.webhook_job_http_client_timeout) \
        == (5, 4)
    assert c.log.external is not None and c.log.external.protocol == "udp"
    assert (c.redis.registry_db, c.redis.harbor_db, c.redis.cache_layer_db) == (3, 7, 8)
    assert c.metric is not None and c.metric.port == 9091
    assert c.trace is not None and c.trace.jaeger is not None and c.trace.sample_rate == 0.5
    assert c.cache_expire_hours == 12 and c.quota_update_provider == "redis"
    assert c.uaa_ca_file is not None
    o = other.config
    assert o.database.external and o.database.ssl_mode == "verify-full"
    assert o.database.pool.conn_max_lifetime == "1h30m"
    assert o.redis.external and len(o.redis.hosts) == 2 and o.redis.tls
    assert o.redis.sentinel_master_set == "mymaster" and o.redis.idle_timeout_seconds == 60
    assert o.storage.driver == "gcs" and o.storage.gcs_key is not None
    assert o.trace is not None and o.trace.otel is not None and o.trace.otel.timeout == 20


def test_secrets_are_known_to_the_model() -> None:
    config = check(EVERY_KEY).config
    assert config is not None
    assert {"S3cret-admin", "db-pass-1", "s3-secret-value", "ghp-token-value",
            "jaeger-pass"} <= set(config.secret_values())


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    text = EVERY_KEY.replace("  port: 8080", "  port: 70000").replace(
        "level: warning", "level: loud").replace(
        "max_job_workers: 12", "max_job_workers: many").replace(
        "quota_update_provider: redis", "quota_update_provider: etcd")
    result = check(text)
    assert result.config is None
    assert formatted(result) == [
        "harbor.yml:4: http.port: 70000 is out of range (1–65535)",
        "harbor.yml:50: jobservice.max_job_workers: 'many' is not a whole number",
        "harbor.yml:60: log.level: 'loud' is not one of: debug, info, warning, error, fatal",
        "harbor.yml:107: core.quota_update_provider: 'etcd' is not one of: db, redis",
    ]


@pytest.mark.parametrize(("line", "expected"), [
    ("hostnme: x", "harbor.yml:31: hostnme: unknown key: Harbor v2.15 does not read it"),
    ("clair:\n  updaters_interval: 12", "harbor.yml:31: clair: unknown key"),
])
def test_unknown_keys_are_errors(line: str, expected: str) -> None:
    text = OTHER_SIDE.replace("storage_service:", line + "\nstorage_service:")
    problems = formatted(check(text))
    assert any(p.startswith(expected) for p in problems), problems
    assert not any(".updaters_interval" in p for p in problems)  # the block is named once


def test_unknown_keys_get_a_did_you_mean_hint() -> None:
    text = EVERY_KEY.replace("  strong_ssl_ciphers: false", "  strong_ssl_cipher: false")
    result = check(text)
    problem = next(p for p in result.errors if p.key == "https.strong_ssl_cipher")
    assert problem.line == 9 and problem.hint == "did you mean https.strong_ssl_ciphers?"


def test_a_storage_drivers_own_options_are_not_unknown_keys() -> None:
    result = check(EVERY_KEY.replace("    secure: true", "    secure: true\n"
                                     "    multipartcopythresholdsize: 33554432"))
    assert result.config is not None, formatted(result)


@pytest.mark.parametrize(("value", "message"), [
    ("yes", "YAML reads 'yes' as a yes/no value, not as text"),
    ("0123", "YAML reads '0123' as a number, not as text"),  # octal for YAML 1.1: 83
    ("1.5", "YAML reads '1.5' as a number, not as text"),
])
def test_a_password_yaml_reads_as_another_type_must_be_quoted(value: str, message: str) -> None:
    result = check(OTHER_SIDE.replace('password: "ext-db-pass"', f"password: {value}"))
    problem = next(p for p in result.errors if p.key == "external_database.harbor.password")
    assert problem.message == message and problem.line == 11
    assert problem.hint == 'quote it: password: "..."'


def test_a_plain_decimal_password_is_the_same_text_either_way() -> None:
    result = check(OTHER_SIDE.replace('password: "ext-db-pass"', "password: 123456"))
    assert result.config is not None and result.config.database.password == "123456"


@pytest.mark.parametrize(("version", "error"), [
    ("2.15.0", None),
    ("2.15.2", None),
    ("2.15", None),  # a float for YAML: the text as written counts
    ("2.14.0", "a Harbor 2.14 file; harborctl reads the files of Harbor 2.15 (their keys differ)"),
    ("1.10.0", "a Harbor 1.10 file; harborctl reads the files of Harbor 2.15 (their keys differ)"),
    ("two", "'two' is not a Harbor release such as 2.15.0"),
])
def test_version_must_be_2_15(version: str, error: str | None) -> None:
    result = check(OTHER_SIDE.replace("_version: 2.15.0", f"_version: {version}"))
    problems = [p for p in result.errors if p.key == "_version"]
    assert [p.message for p in problems] == ([error] if error else [])
    if version.startswith(("2.14", "1.10")):
        assert "goharbor/prepare:v2.15.2 migrate" in (problems[0].hint or "")


def test_a_missing_version_is_read_as_2_15_with_a_warning() -> None:
    result = check(OTHER_SIDE.replace("_version: 2.15.0\n", ""))
    assert result.config is not None
    assert [p.key for p in result.warnings] == ["_version", "https"]


def test_required_keys_are_named_when_missing() -> None:
    text = "\n".join(line for line in OTHER_SIDE.splitlines()
                     if not line.startswith(("hostname", "data_volume")) and
                     "max_job_workers" not in line) + "\n"
    keys = {p.key for p in check(text).errors}
    assert keys == {"hostname", "data_volume", "jobservice.max_job_workers"}


def test_hostname_checks() -> None:
    for value, message in (("127.0.0.1", "127.0.0.1 cannot be the hostname"),
                           ("localhost", "localhost cannot be the hostname"),
                           ("bad_name!", "'bad_name!' is not a host name or IP address")):
        result = check(OTHER_SIDE.replace("hostname: 203.0.113.10", f"hostname: {value}"))
        assert any(p.key == "hostname" and p.message.startswith(message)
                   for p in result.errors), formatted(result)
    assert check(OTHER_SIDE.replace("203.0.113.10", "harbor.example.com:8443")).config


def test_ports_may_not_collide() -> None:
    result = check(EVERY_KEY.replace("port: 9091", "port: 8443"))
    assert [(p.key, p.message) for p in result.errors] == [
        ("metric.port", "port 8443 is already taken by https.port")]
    result = check(EVERY_KEY.replace("  port: 8080", "  port: 1514"))
    assert [p.message for p in result.errors] == ["port 1514 is already taken by the log service"]


def test_https_files_must_exist() -> None:
    result = check_yml_text(EVERY_KEY, file_exists=lambda path: path.name != "server.key")
    assert [(p.key, p.message) for p in result.errors] == [
        ("https.private_key", "/etc/harbor/server.key: no such file")]


def check_yml_text(text: str, file_exists: object) -> object:
    from harborctl.config.yml import validate
    from tests.unit.yml.support import read_file

    return validate(parse_yaml_text(text, Path("harbor.yml")), file_exists=file_exists,  # type: ignore[arg-type]
                    read_file=read_file)


def test_redis_checks() -> None:
    both = check(EVERY_KEY + "external_redis:\n  host: cache.example.com:6379\n")
    assert any(p.key == "redis" and p.message == "both redis and external_redis are set"
               for p in both.errors)
    no_master = check(OTHER_SIDE.replace("  sentinel_master_set: mymaster\n", ""))
    assert [p.key for p in no_master.errors] == ["external_redis.sentinel_master_set"]
    user_only = check(OTHER_SIDE.replace('  password: "redis-pass"\n', ""))
    assert [p.key for p in user_only.errors] == ["external_redis.username"]
    bad_host = check(OTHER_SIDE.replace("sentinel2.example.com:26379", "sentinel2"))
    assert [p.message for p in bad_host.errors] == ["'sentinel2' is not host:port"]
    no_ca = check(OTHER_SIDE.replace("    rootCA: /etc/harbor/redis-ca.pem\n", ""))
    assert [p.key for p in no_ca.errors] == ["external_redis.tlsOptions.rootCA"]


def test_storage_checks() -> None:
    two = check(EVERY_KEY.replace("  s3:", "  azure:\n    accountname: a\n    accountkey: b\n"
                                  "    container: c\n  s3:"))
    assert [p.message for p in two.errors] == [
        "more than one storage driver is set (azure, s3)"]
    no_bucket = check(EVERY_KEY.replace("    bucket: harbor-images\n", ""))
    assert [p.key for p in no_bucket.errors] == ["storage_service.s3.bucket"]
    missing_ca = check(EVERY_KEY.replace("/etc/harbor/storage-ca.pem", "/etc/harbor/gone.pem"))
    assert [p.key for p in missing_ca.errors] == ["storage_service.ca_bundle"]
    bad_key = check(OTHER_SIDE.replace("/etc/harbor/gcs.json", "/etc/harbor/storage-ca.pem"))
    assert [p.message for p in bad_key.errors] == [
        "/etc/harbor/storage-ca.pem is not a JSON key file"]


def test_trace_needs_exactly_one_exporter() -> None:
    neither = check(OTHER_SIDE.split("trace:")[0] + "trace:\n  enabled: true\n"
                    + "jobservice:" + OTHER_SIDE.split("jobservice:")[1])
    assert [p.key for p in neither.errors] == ["trace"]
    both = check(EVERY_KEY.replace("    password: \"jaeger-pass\"\n",
                                   "    password: \"jaeger-pass\"\n    agent_host: agent\n"))
    assert [p.message for p in both.errors] == ["set exactly one of endpoint and agent_host"]


def test_internal_tls_needs_every_pair() -> None:
    result = check(EVERY_KEY, with_trivy=True)
    assert result.config is not None and result.config.internal_tls is not None
    assert len(result.config.internal_tls.files) == 15
    result = check(EVERY_KEY.replace("dir: /etc/harbor/tls/internal", "dir: /etc/harbor/tls/x"))
    assert {p.key for p in result.errors} == {"internal_tls.dir"}
    assert len(result.errors) == 13


def test_upload_purging_and_durations() -> None:
    result = check(EVERY_KEY.replace("age: 96h", "age: 1h").replace(
        "conn_max_lifetime: 5m", "conn_max_lifetime: 5 minutes"))
    assert sorted(p.key for p in result.errors) == ["database.conn_max_lifetime",
                                                    "upload_purging.age"]


def test_job_loggers_are_checked() -> None:
    result = check(EVERY_KEY.replace("    - DB", "    - SYSLOG\n    - STD_OUTPUT"))
    assert [p.message for p in result.errors] == [
        "'SYSLOG' is not one of: STD_OUTPUT, FILE, DB", "STD_OUTPUT is listed twice"]


def test_values_that_cannot_reach_an_env_file_exactly_are_refused() -> None:
    result = check(EVERY_KEY.replace('"S3cret-admin"', '"a${HOME}b"'))
    assert [p.key for p in result.errors] == ["harbor_admin_password"]
    result = check(EVERY_KEY.replace('"S3cret-admin"', '"back\\\\slash"'))
    assert [p.key for p in result.errors] == ["harbor_admin_password"]


def test_system_folders_are_refused() -> None:
    result = check(EVERY_KEY.replace("data_volume: /srv/harbor/data", "data_volume: /var/lib"))
    assert [p.key for p in result.errors] == ["data_volume"]


def test_the_shipped_example_is_valid_once_edited() -> None:
    example = (Path(__file__).parents[3] / "harbor.yml.example").read_text()
    as_shipped = check(example)
    assert [p.key for p in as_shipped.errors] == ["hostname", "https.certificate",
                                                   "https.private_key"]
    edited = (example.replace("reg.mydomain.com", "harbor.example.com")
              .replace("/your/certificate/path", "/etc/harbor/server.crt")
              .replace("/your/private/key/path", "/etc/harbor/server.key"))
    assert check(edited).config is not None
    # every commented-out setting is valid once uncommented too
    setting = re.compile(r"( *)# (?= *([A-Za-z0-9_]+:|- ))")
    uncommented = "\n".join(setting.sub(r"\1", line, count=1)
                            for line in edited.splitlines()) + "\n"
    result = check(uncommented)
    assert result.config is not None, formatted(result)
    assert result.config.database.external and result.config.redis.external
    assert result.config.storage.driver == "s3" and result.config.trace is not None
