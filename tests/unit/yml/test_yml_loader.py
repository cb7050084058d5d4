"""The harbor.yml reader: line numbers for every key, and the YAML that is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.config.loader import MAX_CONFIG_BYTES
from harborctl.config.yml import parse_yaml_text, read_yaml_file
from harborctl.errors import ConfigError
from tests.unit.yml.support import check, formatted


def parse(text: str) -> list[tuple[str, int | None, str]]:
    raw = parse_yaml_text(text, Path("harbor.yml"))
    return [(p.key, p.line, p.message) for p in raw.problems]


def test_every_key_keeps_its_line() -> None:
    raw = parse_yaml_text("# top\nhostname: a\n\nhttps:\n  port: 443\n  # c\n  certificate: /x\n",
                          Path("h.yml"))
    assert {k: v.line for k, v in raw.items.items()} == {
        "hostname": 2, "https": 4, "https.port": 5, "https.certificate": 7}
    assert raw.items["https.port"].value == 443 and raw.items["https.port"].text == "443"


def test_a_duplicate_key_is_an_error_at_the_second_line() -> None:
    text = "hostname: a\nhttp:\n  port: 80\n  port: 8080\nhostname: b\n"
    assert parse(text) == [
        ("http.port", 4, "set twice (first on line 3); YAML would keep the later value silently"),
        ("hostname", 5, "set twice (first on line 1); YAML would keep the later value silently"),
    ]


def test_anchors_and_aliases_are_refused_before_anything_is_built() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8))
    problems = parse(bomb)
    assert problems[0] == ("(syntax)", 1, "the anchor 'a': anchors and aliases are not "
                           "supported in harbor.yml")
    assert len(problems) > 9  # every anchor and every alias named, nothing expanded


@pytest.mark.parametrize(("text", "line", "message"), [
    ("- a\n- b\n", 1, "the file must be a mapping of 'key: value' lines at its top"),
    ("just text\n", 1, "the file must be a mapping of 'key: value' lines at its top"),
    ("", None, "the file must be a mapping of 'key: value' lines at its top"),
    ("a: 1\n---\nb: 2\n", 2, "not valid YAML: expected a single document in the stream, "
     "but found another document"),
    # libyaml's words (PyYAML's own parser, without libyaml, words them differently)
    ("a: 1\n\tb: 2\n", 2, "not valid YAML: while scanning a plain scalar, found a tab "
     "character that violates indentation"),
    ("a: [1, 2\nb: 3\n", 2, "not valid YAML: while parsing a flow sequence, did not find "
     "expected ',' or ']'"),
])
def test_what_is_not_a_harbor_yml(text: str, line: int | None, message: str) -> None:
    assert parse(text) == [("(syntax)", line, message)]


def test_non_text_keys_are_refused() -> None:
    assert parse("1: a\n? [x]\n: b\nc: 1\n") == [
        ("1", 1, "a key must be a plain word"), ("(a block)", 2, "a key must be a plain word")]


def test_the_file_is_read_with_limits(tmp_path: Path) -> None:
    big = tmp_path / "harbor.yml"
    big.write_bytes(b"a: " + b"x" * MAX_CONFIG_BYTES)
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        read_yaml_file(big)
    with pytest.raises(ConfigError, match="no such file"):
        read_yaml_file(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml_file(tmp_path)
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"hostname: a\nharbor_admin_password: p\xe4ss\n")
    raw = read_yaml_file(latin)
    assert [(p.key, p.line) for p in raw.problems] == [("(encoding)", 2)]


def test_an_unreadable_file_gives_only_the_readers_problems() -> None:
    result = check("a: *x\n")
    assert result.config is None
    assert formatted(result) == ["harbor.yml:1: (syntax): the alias 'x': anchors and aliases "
                                 "are not supported in harbor.yml"]
