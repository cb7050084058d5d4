"""Durations, interpolation and env files."""

from __future__ import annotations

import pytest

from harborctl.engine.compose.service_list import normalize_project_name
from harborctl.engine.compose.syntax import interpolate, parse_duration, parse_env_file
from harborctl.quoting import env_quoting

S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("1s", S),
        ("500ms", S // 2),
        ("1m30s", 90 * S),
        ("1.5h", 5400 * S),
        ("2m", 120 * S),
        ("10us", 10_000),
        ("7ns", 7),
        ("30", 30 * S),
        (0.5, S // 2),
        (3, 3 * S),
    ],
)
def test_durations(text: object, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "s", "1x", "1s 2s", "1s2", "-1s", True, None, [1], -2])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_interpolate() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert interpolate("$A ${A} $$A ${B:-d} ${EMPTY:-d} ${EMPTY-d} ${B-d} ${B}", env) == (
        "1 1 $A d d  d "
    )
    with pytest.raises(ValueError, match="unsupported"):
        interpolate("${A:?boom}", env)
    with pytest.raises(ValueError, match="lone"):
        interpolate("cost: 5$", env)


def test_env_file() -> None:
    text = (
        "# comment\n\nexport A=1\nB = two words  # note\nC='lit $X # not a comment'\n"
        'D="line\\nnext \\"q\\""\nE=\nnot a pair\nF=x=y\n'
    )
    assert parse_env_file(text) == {
        "A": "1",
        "B": "two words",
        "C": "lit $X # not a comment",
        "D": 'line\nnext "q"',
        "E": "",
        "F": "x=y",
    }


def test_project_name() -> None:
    assert normalize_project_name("Harbor") == "harbor"
    assert normalize_project_name("my harbor_1.7-x") == "myharbor_17-x"
    assert normalize_project_name("Ärger-Ω") == "rger-"


@pytest.mark.parametrize(
    "value",
    ["plain", "two words", "it's", "pa$$w0rd", "#hash", 'say "hi"', "a=b", " lead", "", "é"],
)
def test_env_file_reads_back_what_the_renderer_quotes(value: str) -> None:
    quoted = env_quoting(value)
    assert quoted is not None
    assert parse_env_file(f"KEY={quoted}\n") == {"KEY": value}


def test_env_file_lines_end_at_newline_only() -> None:
    # A form feed or U+2028 inside a hand-edited value does not end the line, and is kept.
    text = "A=one\x0ctwo\nB=x\u2028y\r\nC=z\n"
    assert parse_env_file(text) == {"A": "one\x0ctwo", "B": "x\u2028y", "C": "z"}
