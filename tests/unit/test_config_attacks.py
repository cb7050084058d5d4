"""Issue 13, the configuration input: each hostile harbor.cfg found by the attack round, refused
(or read correctly) with its file and line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from harborctl.config import parse_text, read_config_file, validate
from harborctl.config.model import Address
from harborctl.errors import ConfigError
from harborctl.plan.urls import urls_for
from harborctl.render import storage_option
from tests.cli_runner import cli_runner
from tests.depth import cases
from tests.unit.prepare_support import prepare_file as prepare

BASE = "hostname = harbor.example.com\nharbor_admin_password = S3cret-pass\ndb_password = db-pass\n"


def problems_of(text: str) -> list[tuple[str, int | None, str, str]]:
    result = validate(parse_text(text, Path("harbor.cfg")))
    return [(p.severity, p.line, p.key, p.message) for p in result.problems
            if p.key != "ui_url_protocol"]


def errors_of(text: str) -> list[tuple[int | None, str, str]]:
    return [(line, key, message) for severity, line, key, message in problems_of(text)
            if severity == "error"]


# --- High 1: a section header --------------------------------------------------------------------

def test_a_section_header_is_an_error_with_its_line_and_later_keys_are_still_read() -> None:
    text = BASE + "[ldap]\nharbor_admin_password2 = x\n"
    errors = errors_of(text)
    assert [(line, key) for line, key, _ in errors] == [(4, "(syntax)")]
    assert "section header" in errors[0][2]


@pytest.mark.parametrize("header", ["[ldap]", "[DEFAULT]", "[harbor]", "  [x]", "[a] trailing"])
def test_every_form_of_header_is_refused(header: str) -> None:
    text = header + "\n" + BASE
    errors = errors_of(text)
    assert errors and errors[0][0] == 1, errors
    # the keys below the header are not lost: no placeholder-hostname error
    assert all(key != "hostname" for _, key, _ in errors)


def test_keys_after_a_header_keep_their_values() -> None:
    raw = parse_text("[ldap]\n" + BASE, Path("harbor.cfg"))
    assert raw.values["harbor_admin_password"].value == "S3cret-pass"
    assert raw.line_of("harbor_admin_password") == 3


# --- line numbers and odd characters --------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\x0c", "\x1c", "\r"])
def test_line_numbers_count_newlines_only(separator: str) -> None:
    text = f"hostname = harbor.example.com\nemail_password = a{separator}b\nhttp_port = x\n"
    raw = parse_text(text, Path("harbor.cfg"))
    assert raw.line_of("http_port") == 3
    assert (3, "http_port") in [(line, key) for line, key, _ in errors_of(text)]


def test_an_indented_first_line_is_an_error_with_its_line() -> None:
    errors = errors_of("  harbor_admin_password = x\n" + BASE)
    assert (1, "(syntax)") in [(line, key) for line, key, _ in errors]


def test_windows_line_ends_are_read() -> None:
    raw = parse_text(BASE.replace("\n", "\r\n"), Path("harbor.cfg"))
    assert raw.values["db_password"].value == "db-pass"


def test_control_characters_of_a_key_are_shown_escaped() -> None:
    result = validate(parse_text(BASE + "bad\x1b[2Jkey = 1\n", Path("harbor.cfg")))
    shown = [p.format("harbor.cfg") for p in result.problems]
    assert not any("\x1b" in line for line in shown)
    assert any("harbor.cfg:4: warning: bad\\x1b[2jkey" in line for line in shown)


# --- Medium: BOM, ${, system folders, IPv6 ------------------------------------------------------

def test_a_byte_order_mark_is_stripped(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_bytes(b"\xef\xbb\xbfdata_volume = /srv/harbor\n" + BASE.encode())
    raw = read_config_file(cfg)
    assert raw.values["data_volume"].value == "/srv/harbor"
    assert raw.line_of("data_volume") == 1


@pytest.mark.parametrize("value", ["${HOME}", "pa${x}ss", "a${"])
def test_compose_interpolation_is_refused_with_its_line(value: str) -> None:
    errors = errors_of(BASE + f"email_password = {value}\n")
    assert [(line, key) for line, key, _ in errors] == [(4, "email_password")]
    assert "${" in errors[0][2]


def test_a_lone_dollar_is_still_allowed() -> None:
    assert errors_of(BASE + "email_password = $HOME$$x\n") == []


@pytest.mark.parametrize("key", ["data_volume", "log_location", "secretkey_path"])
@pytest.mark.parametrize("folder", ["/", "//", "/etc", "/usr/", "/var", "/home", "/root",
                                    "/lib64", "/proc/self", "/sys/x", "/dev/shm", "/var/lib",
                                    "/usr/local", "/tmp", "/data/../etc"])
def test_system_folders_are_refused(key: str, folder: str) -> None:
    errors = errors_of(BASE + f"{key} = {folder}\n")
    assert [(line, key_) for line, key_, _ in errors] == [(4, key)]
    assert "system folder" in errors[0][2]


@pytest.mark.parametrize("folder", ["/data", "/srv/harbor", "/var/lib/harbor", "/home/ops/h",
                                    "/tmp/test-harbor", "/opt/harbor/data"])
def test_ordinary_folders_are_accepted(folder: str) -> None:
    assert errors_of(BASE + f"data_volume = {folder}\nlog_location = {folder}/log\n") == []


@pytest.mark.parametrize("key", ["data_volume", "log_location", "secretkey_path"])
def test_a_colon_in_a_mounted_folder_is_refused(key: str) -> None:
    errors = errors_of(BASE + f"{key} = /srv/a:b\n")
    assert [(line, key_) for line, key_, _ in errors] == [(4, key)]
    assert "':'" in errors[0][2]


@pytest.mark.parametrize(
    ("hostname", "protocol", "port_line", "authority"),
    [
        ("fd00::5", "http", "", "[fd00::5]"),
        ("[fd00::5]", "http", "", "[fd00::5]"),
        ("[fd00::5]:8080", "http", "", "[fd00::5]:8080"),
        ("fd00::5", "http", "http_port = 8080", "[fd00::5]:8080"),
        ("2001:db8::1", "https", "https_port = 8443", "[2001:db8::1]:8443"),
    ],
)
def test_ipv6_hostnames_are_bracketed_in_every_url(
    hostname: str, protocol: str, port_line: str, authority: str
) -> None:
    text = (f"hostname = {hostname}\nui_url_protocol = {protocol}\nharbor_admin_password = Pw-1\n"
            f"db_password = db-pw\nssl_cert = /c/s.crt\nssl_cert_key = /c/s.key\n{port_line}\n")
    result = validate(parse_text(text, Path("harbor.cfg")), file_exists=lambda _: True)
    assert result.config is not None, result.errors
    address = result.config.address
    assert address.hostname == hostname.partition("]")[0].lstrip("[") if "[" in hostname \
        else address.hostname == hostname
    assert address.authority == authority
    assert urls_for(result.config).token_realm == f"{protocol}://{authority}/service/token"


def test_address_authority_brackets_ipv6() -> None:
    assert Address("fd00::5", "https", 80, 443).external_url == "https://[fd00::5]"
    assert Address("fd00::5", "http", 8080, 443).authority == "[fd00::5]:8080"
    assert Address("harbor.example.com", "http", 8080, 443).authority == "harbor.example.com:8080"


@pytest.mark.parametrize("hostname", ["fe80::1%eth0", "[fe80::1%25eth0]", "[fd00::5", "[::1]",
                                      "::", "::ffff:127.0.0.1", "[::ffff:0.0.0.0]:8080",
                                      "[harbor.example.com]", "[fd00::5]x"])
def test_unusable_ipv6_forms_are_refused_with_the_line(hostname: str) -> None:
    errors = errors_of(f"hostname = {hostname}\nharbor_admin_password = Pw-1\ndb_password = d\n")
    assert [(line, key) for line, key, _ in errors] == [(1, "hostname")], errors


# --- Low ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("0123", '"0123"'), ("5242880", "5242880"), ("0", "0"), ("true", "true"),
    ("99999999999999999999", '"99999999999999999999"'), ("١٢٣", json.dumps("١٢٣")), ("-1", '"-1"'),
])
def test_storage_options_that_yaml_would_change_are_quoted(value: str, expected: str) -> None:
    assert storage_option(value) == expected


def test_a_comma_in_the_redis_password_is_refused() -> None:
    errors = errors_of(BASE + "redis_password = a,b\n")
    assert [(line, key) for line, key, _ in errors] == [(4, "redis_password")]


@pytest.mark.parametrize("key", ["redis_host", "db_host", "clair_db_host"])
@pytest.mark.parametrize("value", ["red is", "a/b", "user@host", "h:6379", "x,y", "fd00::5",
                                   "a" * 64, "-lead"])
def test_service_hosts_must_be_host_names(key: str, value: str) -> None:
    errors = errors_of(BASE + f"{key} = {value}\n")
    assert [(line, key_) for line, key_, _ in errors] == [(4, key)], errors


@pytest.mark.parametrize("value", ["redis", "postgresql", "10.0.0.5", "db.example.com",
                                   "harbor_db"])
def test_service_hosts_accept_names_and_ipv4(value: str) -> None:
    assert errors_of(BASE + f"redis_host = {value}\ndb_host = {value}\n") == []


def test_a_malformed_storage_pair_does_not_echo_its_secret(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMIK7MDENG"
    text = (BASE + "registry_storage_provider_name = s3\n"
            f"registry_storage_provider_config = accesskey: AKIA, secretkey {secret}, "
            "region: us-east-1, bucket: charts\n")
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(text)
    errors = errors_of(text)
    assert [(line, key) for line, key, _ in errors] == [(5, "registry_storage_provider_config")]
    for args in (["config", "check", "-c", str(cfg)], ["config", "check", "--json", "-c", str(cfg)],
                 ["prepare", "--dry-run", "-c", str(cfg)]):
        result = cli_runner().invoke(cli, args)
        assert result.exit_code == 3
        assert secret not in result.output and "AKIA" not in result.output


def test_a_hostname_longer_than_253_characters_is_refused() -> None:
    name = ".".join(["a" * 63] * 5)[:319]
    errors = errors_of(f"hostname = {name}\nharbor_admin_password = Pw-1\ndb_password = d\n")
    assert [(line, key) for line, key, _ in errors] == [(1, "hostname")]


@pytest.mark.parametrize(("key", "value"), [
    ("log_rotate_size", "٢٠٠M"), ("log_rotate_count", "٥"), ("http_port", "٨٠"),
    ("redis_db_index", "1,2,³"), ("redis_db_index", "١,٢,٣"), ("hostname", "harbor.example.com:٨٠"),
    ("max_job_workers", "１０"),
])
def test_non_ascii_digits_are_not_numbers(key: str, value: str) -> None:
    text = BASE.replace("hostname = harbor.example.com\n", "") + \
        ("hostname = harbor.example.com\n" if key != "hostname" else "") + f"{key} = {value}\n"
    errors = errors_of(text)
    assert [key_ for _, key_, _ in errors] == [key], errors


def test_the_config_size_is_capped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        read_config_file(Path("/dev/zero"))
    big = tmp_path / "harbor.cfg"
    big.write_text(BASE + "# " + "x" * (1 << 20) + "\n")
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(big)])
    assert result.exit_code == 3 and "larger than 1 MiB" in result.output


def test_an_undecodable_file_names_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_bytes(BASE.encode() + b"email_password = caf\xe9\nhttp_port = x\n")
    result = validate(read_config_file(cfg))
    assert [(p.line, p.key) for p in result.errors] == [(4, "(encoding)"), (5, "http_port")]


def test_config_check_json_stays_json_for_every_failure(tmp_path: Path) -> None:
    undecodable = tmp_path / "bad.cfg"
    undecodable.write_bytes(b"\xff\xfe" + BASE.encode())
    for path in (undecodable, tmp_path / "absent.cfg", Path("/dev/zero")):
        result = cli_runner().invoke(cli, ["config", "check", "--json", "-c", str(path)])
        assert result.exit_code == 3, result.output
        payload = json.loads(result.stdout)
        assert payload["valid"] is False and payload["problems"], payload
        assert all(p["file"] == str(path) for p in payload["problems"])


@pytest.mark.parametrize("command", [["config", "check"], ["certs"], ["prepare"],
                                     ["config", "check", "--json"]])
def test_a_directory_as_config_is_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    result = cli_runner().invoke(cli, [*command, "-c", str(tmp_path)])
    assert result.exit_code in (2, 3)
    assert "unexpected" not in result.output
    assert "directory" in result.output


def test_a_directory_through_the_api_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_config_file(tmp_path)


def test_prepare_renders_an_ipv6_hostname_in_brackets(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(f"hostname = [fd00::5]:8080\nharbor_admin_password = Adm1n-pass\n"
                   f"db_password = db-pass-1\ndata_volume = {tmp_path}/data\n"
                   f"secretkey_path = {tmp_path}/data\nlog_location = {tmp_path}/log\n")
    prepare(cfg, tmp_path, token_bits=2048)  # the product's 4096 bits take seconds
    generated = tmp_path / "common" / "config"
    registry = (generated / "registry" / "config.yml").read_text()
    assert 'realm: "http://[fd00::5]:8080/service/token"' in registry
    assert "EXT_ENDPOINT=http://[fd00::5]:8080\n" in (generated / "adminserver" / "env").read_text()
    rendered = "".join(path.read_text() for path in generated.rglob("*")
                       if path.is_file() and path.suffix != ".pem")
    assert "fd00::5:" not in rendered  # never an address whose port cannot be told apart


@pytest.mark.long
def test_a_flood_of_unknown_keys_gets_suggestions_for_the_first_few_only() -> None:
    # difflib for each of 60 000 keys (a megabyte) took over a minute of CPU; the first ones
    # are what an operator reads anyway. CI's thorough run sends the megabyte (tests/depth.py).
    count = cases(quick=10_000, thorough=60_000)
    text = BASE + "".join(f"hostnam{i} = v\n" for i in range(count))
    result = validate(parse_text(text, Path("harbor.cfg")))
    hints = [p.hint for p in result.warnings if p.message == "unknown key, ignored"]
    assert len(hints) == count
    assert sum("did you mean" in (hint or "") for hint in hints) == 20


def test_a_huge_key_is_cut_short_when_shown() -> None:
    result = validate(parse_text(BASE + "k" * 100_000 + " = 1\n", Path("harbor.cfg")))
    shown = [p.format("harbor.cfg") for p in result.warnings if "unknown key" in p.message]
    assert len(shown) == 1 and len(shown[0]) < 300


def test_a_path_with_a_terminal_escape_is_shown_escaped() -> None:
    text = BASE.replace("harbor.example.com", "harbor.example.com\nui_url_protocol = https") + \
        "ssl_cert = /certs/\x1b]0;owned\x07.crt\nssl_cert_key = /certs/k\n"
    result = validate(parse_text(text, Path("harbor.cfg")))
    shown = "\n".join(p.format("harbor.cfg") for p in result.problems)
    assert "/certs/\\x1b]0;owned\\x07.crt does not exist" in shown
    assert "\x1b" not in shown and "\x07" not in shown


@pytest.mark.parametrize("breaker", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
                                     "\u2029"])
def test_a_character_that_ends_a_line_for_some_reader_is_refused(breaker: str) -> None:
    # harborctl's env reader (str.splitlines) ends a line there; compose does not: the two would
    # read different passwords.
    errors = errors_of(BASE + f"email_password = a{breaker}b\n")
    assert [(line, key) for line, key, _ in errors] == [(4, "email_password")]
    assert "ends a line" in errors[0][2]


def test_a_malformed_line_is_not_echoed(tmp_path: Path) -> None:
    # "harbor_admin_password Secret-1" (the '=' forgotten) would print the password back.
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(BASE + "harbor_admin_password2 Secret-1\n  Secret-2\n")
    for args in (["config", "check", "-c", str(cfg)],
                 ["config", "check", "--json", "-c", str(cfg)]):
        result = cli_runner().invoke(cli, args)
        assert result.exit_code == 3
        assert "Secret-1" not in result.output and "Secret-2" not in result.output
        assert f"{cfg}:4: (syntax)" in result.output or '"line": 4' in result.output
