"""Table-driven validation: each small config with the complete list of problems it must report."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.config import parse_text, validate

# Lines 1-6; a case changes a value in place (same line) or appends keys from line 7 on.
BASE = {
    "hostname": "harbor.example.com",
    "ui_url_protocol": "https",
    "ssl_cert": "/certs/server.crt",
    "ssl_cert_key": "/certs/server.key",
    "harbor_admin_password": "S3cret-pass",
    "db_password": "db-pass",
}
APPEND = object()


def exists(path: Path) -> bool:
    return str(path).startswith("/certs/")


def render(changes: dict[str, str], extra_lines: tuple[str, ...] = ()) -> str:
    values = dict(BASE)
    appended = []
    for key, value in changes.items():
        if key in values:
            values[key] = value
        else:
            appended.append(f"{key} = {value}")
    lines = [f"{k} = {v}" for k, v in values.items()] + appended + list(extra_lines)
    return "\n".join(lines) + "\n"


E, W = "error", "warning"
CASES: list[tuple[str, dict[str, str], tuple[str, ...], list[tuple[str, int | None, str, str]]]] = [
    ("valid", {}, (), []),
    ("placeholder hostname", {"hostname": "reg.mydomain.com"}, (),
     [(E, 1, "hostname", "example placeholder")]),
    ("localhost", {"hostname": "localhost"}, (), [(E, 1, "hostname", "this machine only")]),
    ("loopback ip", {"hostname": "127.0.0.1"}, (), [(E, 1, "hostname", "this machine only")]),
    ("scheme", {"hostname": "https://harbor.example.com"}, (),
     [(E, 1, "hostname", "without a scheme or a path")]),
    ("path", {"hostname": "harbor.example.com/harbor"}, (),
     [(E, 1, "hostname", "without a scheme or a path")]),
    ("port in hostname", {"hostname": "harbor.example.com:8443"}, (), []),
    ("port in hostname conflicts", {"hostname": "harbor.example.com:8443", "https_port": "9443"},
     (), [(E, 1, "hostname", "names port 8443 but https_port is 9443 (line 7)")]),
    ("port in hostname out of range", {"hostname": "harbor.example.com:99999"}, (),
     [(E, 1, "hostname", "out of range")]),
    ("empty hostname", {"hostname": ""}, (), [(E, 1, "hostname", "must not be empty")]),
    ("bad hostname", {"hostname": "har_bor!"}, (), [(E, 1, "hostname", "not a valid host name")]),
    ("ip hostname", {"hostname": "10.1.2.3"}, (), []),
    ("ipv6 hostname", {"hostname": "fd00::5"}, (), []),
    ("bracketed ipv6 hostname", {"hostname": "[fd00::5]:8443"}, (), []),
    ("bracketed name", {"hostname": "[harbor.example.com]:8443"}, (),
     [(E, 1, "hostname", "'[harbor.example.com]:8443' is not a valid host name")]),
    ("port without a name", {"hostname": ":8443"}, (),
     [(E, 1, "hostname", "':8443' is not a valid host name")]),
    ("port not a number", {"hostname": "harbor.example.com:https"}, (),
     [(E, 1, "hostname", "'harbor.example.com:https' is not a valid host name")]),
    ("port zero and a bad name", {"hostname": "har_bor:0"}, (),
     [(E, 1, "hostname", "port 0 is out of range"),
      (E, 1, "hostname", "'har_bor' is not a valid host name")]),
    ("port out of range", {"http_port": "70000"}, (), [(E, 7, "http_port", "out of range")]),
    ("port not a number", {"http_port": "eighty"}, (), [(E, 7, "http_port", "not a whole number")]),
    ("equal ports", {"http_port": "8080", "https_port": "8080"}, (),
     [(E, 8, "https_port", "both 8080")]),
    ("log port", {"https_port": "1514"}, (), [(E, 7, "https_port", "log service")]),
    ("bad protocol", {"ui_url_protocol": "ftp"}, (),
     [(E, 2, "ui_url_protocol", "not one of: http, https")]),
    ("http warns", {"ui_url_protocol": "http"}, (),
     [(W, 2, "ui_url_protocol", "plain http"), (W, 3, "ssl_cert", "only with ui_url_protocol"),
      (W, 4, "ssl_cert_key", "only with ui_url_protocol")]),
    ("https without cert", {"ssl_cert": ""}, (), [(E, 3, "ssl_cert", "must not be empty")]),
    ("https cert missing", {"ssl_cert_key": "/nowhere/server.key"}, (),
     [(E, 4, "ssl_cert_key", "/nowhere/server.key does not exist")]),
    ("relative cert", {"ssl_cert": "cert/server.crt"}, (), [(E, 3, "ssl_cert", "relative path")]),
    ("http ignores missing cert", {"ui_url_protocol": "http", "ssl_cert": "/nowhere/x.crt"}, (),
     [(W, 2, "ui_url_protocol", "plain http"), (W, 3, "ssl_cert", "has no effect"),
      (W, 4, "ssl_cert_key", "has no effect")]),
    ("notary needs https", {"ui_url_protocol": "http", "with_notary": "on"}, (),
     [(E, 7, "with_notary", "needs https"), (W, 2, "ui_url_protocol", "plain http"),
      (W, 3, "ssl_cert", "has no effect"), (W, 4, "ssl_cert_key", "has no effect")]),
    ("notary on https", {"with_notary": "on"}, (), []),
    ("bad bool", {"with_clair": "maybe"}, (), [(E, 7, "with_clair", "not a yes/no value")]),
    ("unknown storage", {"registry_storage_provider_name": "ftp"}, (),
     [(E, 7, "registry_storage_provider_name", "not one of")]),
    ("s3 without options", {"registry_storage_provider_name": "s3"}, (),
     [(E, None, "registry_storage_provider_config", "needs its options")]),
    ("s3 with options", {"registry_storage_provider_name": "s3",
                         "registry_storage_provider_config": "region: us-east-1, bucket: b"},
     (), []),
    ("malformed storage options", {"registry_storage_provider_name": "s3",
                                   "registry_storage_provider_config": "region us-east-1"}, (),
     [(E, 8, "registry_storage_provider_config", "not a 'key: value' pair")]),
    ("redis index two", {"redis_db_index": "1,2"}, (),
     [(E, 7, "redis_db_index", "not three numbers")]),
    ("redis index zero", {"redis_db_index": "0,1,2"}, (),
     [(E, 7, "redis_db_index", "three different numbers from 1 to 15")]),
    ("redis index words", {"redis_db_index": "a,b,c"}, (),
     [(E, 7, "redis_db_index", "not three numbers")]),
    ("redis index repeated", {"redis_db_index": "1,1,2"}, (),
     [(E, 7, "redis_db_index", "three different numbers")]),
    ("bad auth mode", {"auth_mode": "ad_auth"}, (), [(E, 7, "auth_mode", "not one of")]),
    ("bad restriction", {"project_creation_restriction": "nobody"}, (),
     [(E, 7, "project_creation_restriction", "everyone, adminonly")]),
    ("workers not a number", {"max_job_workers": "ten"}, (),
     [(E, 7, "max_job_workers", "not a whole number")]),
    ("token expiration zero", {"token_expiration": "0"}, (),
     [(E, 7, "token_expiration", "out of range")]),
    ("relative data volume", {"data_volume": "data"}, (),
     [(E, 7, "data_volume", "relative path")]),
    ("relative log location", {"log_location": "var/log/harbor"}, (),
     [(E, 7, "log_location", "relative path")]),
    ("relative secretkey path", {"secretkey_path": "./data"}, (),
     [(E, 7, "secretkey_path", "relative path")]),
    ("near-miss key", {"hostnme": "x"}, (), [(W, 7, "hostnme", "did you mean 'hostname'")]),
    ("unknown key", {"totally_random": "x"}, (), [(W, 7, "totally_random", "unknown key")]),
    ("proxy without clair", {"http_proxy": "http://proxy:3128"}, (),
     [(W, 7, "http_proxy", "only clair uses the proxy settings")]),
    ("proxy with clair", {"http_proxy": "http://proxy:3128", "with_clair": "on",
                          "clair_db_password": "db-pass"}, (), []),
    ("clair password not the database's", {"with_clair": "on"}, (),
     [(W, None, "clair_db_password", "differs from db_password")]),
    ("demo token key", {"customize_crt": "off"}, (),
     [(W, 7, "customize_crt", "always creates the token-signing key")]),
    ("uaa ca without uaa", {"uaa_ca_cert": "/certs/uaa.pem"}, (),
     [(W, 7, "uaa_ca_cert", "auth_mode is not uaa_auth")]),
    ("other _version", {"_version": "1.6.0"}, (), [(W, 7, "_version", "has no effect")]),
    ("harbor's own _version", {"_version": "1.7.0"}, (), []),
    ("skip pattern without reload", {"skip_reload_env_pattern": "^LDAP_"}, (),
     [(W, 7, "skip_reload_env_pattern", "reload_config is off")]),
    ("skip pattern with reload", {"skip_reload_env_pattern": "^LDAP_", "reload_config": "on"},
     (), []),
    ("default admin password", {"harbor_admin_password": "Harbor12345"}, (),
     [(W, 5, "harbor_admin_password", "well-known default")]),
    ("default db password", {"db_password": "root123"}, (),
     [(W, 6, "db_password", "well-known default")]),
    ("empty db password", {"db_password": ""}, (), [(E, 6, "db_password", "must not be empty")]),
    ("duplicate key", {}, ("hostname = other.example.com",),
     [(E, 7, "hostname", "set twice (first on line 1)")]),
    ("syntax error", {}, ("this line has no equals sign",),
     [(E, 7, "(syntax)", "not a 'key = value' line")]),
    ("continuation line", {}, ("  continued",),
     [(E, 6, "db_password", "continues on an indented line")]),
    ("ldap url", {"auth_mode": "ldap_auth", "ldap_url": "http://ldap"}, (),
     [(E, 8, "ldap_url", "not an ldap:// or ldaps:// URL")]),
    ("rotate size", {"log_rotate_size": "200MB"}, (), [(E, 7, "log_rotate_size", "not a size")]),
    ("image source with scheme", {"image_source": "https://mirror.example.com/goharbor"}, (),
     [(E, 7, "image_source", "not an image repository prefix")]),
    ("mirror source", {"image_source": "mirror.example.com:5000/goharbor"}, (), []),
    ("unsupported release", {"harbor_release": "2.0.0"}, (),
     [(E, 7, "harbor_release", "not supported")]),
    ("email ssl", {"email_ssl": "maybe"}, (), [(E, 7, "email_ssl", "not a yes/no value")]),
    ("three mistakes", {"hostname": "localhost", "http_port": "x", "auth_mode": "none"}, (),
     [(E, 1, "hostname", "this machine only"), (E, 7, "http_port", "not a whole number"),
      (E, 8, "auth_mode", "not one of")]),
]


@pytest.mark.parametrize(("name", "changes", "extra", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reports_exactly_these_problems(
    name: str,
    changes: dict[str, str],
    extra: tuple[str, ...],
    expected: list[tuple[str, int | None, str, str]],
) -> None:
    result = validate(parse_text(render(changes, extra), Path("harbor.cfg")), file_exists=exists)
    got = [(p.severity, p.line, p.key) for p in result.problems]
    assert got == [(sev, line, key) for sev, line, key, _ in expected]
    for problem, (_, _, _, fragment) in zip(result.problems, expected):
        assert fragment in problem.message + " " + (problem.hint or "")
    has_errors = any(sev == E for sev, *_ in expected)
    assert (result.config is None) == has_errors


def test_case_count_is_meaningful() -> None:
    assert len(CASES) >= 40
