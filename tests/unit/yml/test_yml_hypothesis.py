"""Generated hostile harbor.yml files through the reader, validation and `config check`: random
values of every YAML type at every documented key and at unknown ones, random bytes, random
nesting. Whatever the file holds: no traceback, the documented exit codes, and every problem of
a key in the file at that key's line. Derandomized, so every run throws the same examples."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harborctl.cli.app import cli
from harborctl.config.yml import parse_yaml_text
from harborctl.config.yml.keys import KNOWN_KEYS
from harborctl.config.yml.validate import validate
from tests.cli_runner import cli_runner
from tests.depth import cases
from tests.unit.yml.support import EVERY_KEY, read_file
from tests.yaml_load import safe_load

# Derandomized examples (the same each run), as many as tests/depth.py says: 40 take about 1 s.
HOSTILE = settings(derandomize=True, database=None, deadline=None,
                   max_examples=cases(quick=40, thorough=300),
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
           | st.text(max_size=40) | st.sampled_from(
               ["${HOME}", "/", "/etc", "yes", "0123", "127.0.0.1", "a\nb", "x" * 5000,
                "redis:6379", "h:99999", "[::1]", "reg.mydomain.com", "5m", "1h", "STD_OUTPUT"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
LEAVES = sorted(k for k in KNOWN_KEYS if "." in k)
BASE = safe_load(EVERY_KEY)
# libyaml's dumper when PyYAML has it: the pure-Python one took a third of each example's time.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _set(document: dict[str, object], path: str, value: object) -> None:
    parts = path.split(".")
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


@HOSTILE
@given(st.lists(st.tuples(st.sampled_from([*LEAVES, "hostname", "data_volume", "nope",
                                           "https.nope"]), VALUES), max_size=6))
@pytest.mark.long
def test_any_value_at_any_key_is_reported_never_raised(changes: list[tuple[str, object]]) -> None:
    document = copy.deepcopy(BASE)
    for path, value in changes:
        _set(document, path, value)
    text = yaml.dump(document, Dumper=_DUMPER, allow_unicode=True)
    raw = parse_yaml_text(text, Path("harbor.yml"))
    result = validate(raw, file_exists=lambda _: True, read_file=read_file)
    for problem in result.problems:
        if problem.key in raw.items:  # a key of the file: reported at its own line
            assert problem.line == raw.items[problem.key].line, problem
    assert (result.config is None) == bool(result.errors)


@pytest.mark.long
@HOSTILE
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_any_bytes_give_a_documented_exit(tmp_path_factory: object, data: bytes | str) -> None:
    folder = Path(str(tmp_path_factory.mktemp("yml")))  # type: ignore[attr-defined]
    path = folder / "harbor.yml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(path)])
    assert result.exit_code in {0, 3, 6}, result.output
    assert "Traceback" not in result.output and "Error: unexpected " not in result.stderr
