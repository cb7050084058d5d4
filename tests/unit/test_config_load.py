"""Loading real-world files: Harbor 1.7.5's own harbor.cfg, the example, tricky passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.config import check_config, load_config, parse_text, validate
from harborctl.config.keys import DEFAULTS, HARBOR_17_DEFAULTS
from harborctl.errors import ConfigError

HERE = Path(__file__).parent
REPO = HERE.parent.parent


def test_harbor_175_file_loads_with_only_the_placeholder_error() -> None:
    result = check_config(HERE / "data" / "harbor-1.7.5.cfg")
    assert [(p.severity, p.key) for p in result.errors] == [("error", "hostname")]
    assert not [p for p in result.warnings if "unknown key" in p.message]


def test_harbor_175_file_loads_once_the_hostname_is_set(tmp_path: Path) -> None:
    text = (HERE / "data" / "harbor-1.7.5.cfg").read_text().replace(
        "hostname = reg.mydomain.com", "hostname = harbor.corp.example"
    )
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(text)
    config = load_config(cfg).config
    assert config is not None
    assert config.address.external_url == "http://harbor.corp.example"
    assert config.redis.db_index.jobservice == 2
    assert config.storage.provider == "filesystem"
    assert config.storage.provider_config == {}
    assert config.auth.self_registration is True
    assert config.email.sender == "admin <sample_admin@mydomain.com>"
    assert config.paths.data_volume == Path("/data")


def test_example_lists_every_key_with_its_default() -> None:
    raw = parse_text((REPO / "harbor.cfg.example").read_text(), Path("harbor.cfg.example"))
    text = (REPO / "harbor.cfg.example").read_text()
    for key, default in DEFAULTS.items():
        present = raw.values.get(key)
        if present is not None:
            assert present.value == default, key
        else:  # commented out in the example, still documented with its default
            assert f"#{key} = {default}".rstrip() in text or f"#{key} =" in text, key
    assert set(HARBOR_17_DEFAULTS) <= set(DEFAULTS)


@pytest.mark.parametrize(
    "password",
    ["p%40ss%(x)s", "a#b#c", "$HOME{x}$$", "it's", 'say "hi"', "k=v==", "  spaced inside  x",
     "%"],
)
def test_password_round_trips_exactly(password: str) -> None:
    text = (f"hostname = h.example.com\nharbor_admin_password = {password}\n"
            f"db_password = {password}\n")
    result = validate(parse_text(text, Path("harbor.cfg")))
    assert result.config is not None
    assert result.config.auth.admin_password == password.strip()
    assert result.config.database.password == password.strip()


def test_line_numbers_are_kept() -> None:
    raw = parse_text("# comment\n\nhostname = a.example.com\n  \nhttp_port=81\n", Path("x"))
    assert raw.line_of("hostname") == 3
    assert raw.line_of("http_port") == 5


def test_load_config_raises_with_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text("hostname = localhost\nhttp_port = 0\nauth_mode = x\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.exit_code == 3
    errors = [p for p in info.value.problems if ": warning: " not in p]
    assert [e.split(": ")[0] for e in errors] == [f"{cfg}:1", f"{cfg}:2", f"{cfg}:3"]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.cfg")


def test_cli_override_turns_a_component_on() -> None:
    text = "hostname = h.example.com\nwith_chartmuseum = off\n"
    config = validate(parse_text(text, Path("c")), overrides={"chartmuseum": True}).config
    assert config is not None and config.components.chartmuseum is True


@pytest.mark.parametrize("password", ["it's $HOME", "both ' and \"", "back\\slash"])
def test_unrepresentable_password_is_refused_with_its_line(password: str) -> None:
    text = f"hostname = h.example.com\ndb_password = {password}\n"
    result = validate(parse_text(text, Path("harbor.cfg")))
    assert [(p.line, p.key) for p in result.errors] == [(2, "db_password")]
    assert "cannot be passed to Harbor's services exactly" in result.errors[0].message
