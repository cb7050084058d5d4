"""Read harbor.yml into a flat table of key paths, keeping the line of every key.

PyYAML's composer gives every node its position; harborctl walks the node tree itself instead of
letting PyYAML build Python objects, so that a duplicate key (which PyYAML lets the later one win
silently), an alias (the "billion laughs" expansion), a non-string key or a root that is not a
mapping becomes a problem at its line rather than a surprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

import yaml

from harborctl.config.loader import MAX_CONFIG_BYTES
from harborctl.config.problems import Problem
from harborctl.errors import ConfigError

Scalar = Union[str, int, float, bool, None]
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class RawItem:
    """One key of the file: its value as YAML reads it, the text it was written as (scalars
    only), and the line of the key."""

    value: object  # a Scalar, a list of values, or a dict for a mapping (plain Python)
    line: int
    text: str | None = None  # the scalar as written, quotes removed
    is_map: bool = False
    quoted: bool = False


@dataclass(frozen=True)
class RawYaml:
    path: Path
    items: dict[str, RawItem]  # "https.port" -> item; a mapping has an item of its own too
    problems: tuple[Problem, ...] = ()

    def line_of(self, key: str) -> int | None:
        item = self.items.get(key)
        return item.line if item else None


def _syntax(message: str, line: int | None, hint: str) -> Problem:
    return Problem("(syntax)", message, line=line, hint=hint)


class _Walker:
    def __init__(self) -> None:
        self.items: dict[str, RawItem] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def mapping(self, node: yaml.MappingNode, prefix: str) -> dict[str, object]:
        plain: dict[str, object] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "(a block)"
                self.problems.append(Problem(
                    f"{prefix}{shown}", "a key must be a plain word", line=line,
                    hint="write the key as text (merge keys '<<' are not supported either)"))
                continue
            key = str(key_node.value)
            path = f"{prefix}{key}"
            if key in first_line:
                self.problems.append(Problem(
                    path, f"set twice (first on line {first_line[key]}); YAML would keep the "
                    "later value silently", line=line, hint="keep one of the two"))
                continue
            first_line[key] = line
            plain[key] = self.node(value_node, path, line)
        return plain

    def node(self, node: yaml.Node, path: str, line: int) -> object:
        if isinstance(node, yaml.MappingNode):
            value: object = self.mapping(node, path + ".")
            self.items[path] = RawItem(value, line, is_map=True)
            return value
        if isinstance(node, yaml.SequenceNode):
            value = [self._plain(child) for child in node.value]
            self.items[path] = RawItem(value, line)
            return value
        scalar = self._constructor.construct_object(node, deep=True)
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        self.items[path] = RawItem(scalar, line, str(node.value), quoted=quoted)
        return scalar

    def _plain(self, node: yaml.Node) -> object:
        """A list element: plain Python (lists hold names, never keys of their own)."""
        if isinstance(node, yaml.MappingNode):
            return {str(k.value): self._plain(v) for k, v in node.value
                    if isinstance(k, yaml.ScalarNode)}
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(child) for child in node.value]
        return self._constructor.construct_object(node, deep=True)


# libyaml when PyYAML was built with it: the same events and marks, about ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_aliases(text: str) -> list[Problem]:
    """Anchors and aliases are refused before anything is built: a few lines of aliases expand to
    gigabytes, and harbor.yml never needs them."""
    found = []
    for event in yaml.parse(text, Loader=_LOADER):
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or anchor is not None:
            found.append(_syntax(
                f"the {'alias' if isinstance(event, yaml.AliasEvent) else 'anchor'} "
                f"'{anchor}': anchors and aliases are not supported in harbor.yml",
                event.start_mark.line + 1 if event.start_mark else None,
                "write the value out where it is used"))
    return found


def parse_yaml_text(text: str, path: Path, problems: tuple[Problem, ...] = ()) -> RawYaml:
    found = list(problems)
    try:
        aliases = _refuse_aliases(text)
        if aliases:
            return RawYaml(path, {}, (*found, *aliases))
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = ", ".join(filter(None, (exc.context, exc.problem))) or "not YAML"
        found.append(_syntax(f"not valid YAML: {reason}", mark.line + 1 if mark else None,
                             "check the indentation and the quotes around this line"))
        return RawYaml(path, {}, tuple(found))
    except yaml.YAMLError as exc:  # a ReaderError: a control character in the text
        found.append(_syntax(f"not valid YAML: {exc}", None, "save the file as plain text"))
        return RawYaml(path, {}, tuple(found))
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else None
        found.append(_syntax("the file must be a mapping of 'key: value' lines at its top",
                             line, "start from Harbor's harbor.yml.tmpl"))
        return RawYaml(path, {}, tuple(found))
    walker = _Walker()
    walker.mapping(root, "")
    return RawYaml(path, walker.items, (*found, *walker.problems))


def _decode(data: bytes) -> tuple[str, tuple[Problem, ...]]:
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return "", (Problem("(encoding)", f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                            line=line, hint="save the file as UTF-8"),)


def read_yaml_file(path: Path) -> RawYaml:
    """Read and parse ``path``; a file that cannot be read at all raises ConfigError."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a harbor.yml file",
                          hint="pass the file itself with -c FILE")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file",
                          hint="copy Harbor's harbor.yml.tmpl to harbor.yml and edit it, or "
                          "pass -c FILE") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than 1 MiB; harbor.yml is a few KiB",
                          hint="check that -c names harbor.yml")
    text, problems = _decode(data)
    if problems:
        return RawYaml(path, {}, problems)
    return parse_yaml_text(text, path)
