"""JSON to and from the engine without importing ``json`` (which imports ``re`` and ``enum``:
about 6 ms, a third of a whole `harborctl status`).

Decoding uses CPython's C scanner (``_json``, what ``json.loads`` itself runs) with the settings
``json.loads`` would pass; elsewhere it falls back to ``json``. Encoding is needed only for the
small label filters of the container list."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


class _PlainJsonSettings:
    """The attributes ``_json.make_scanner`` reads: those of a default ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity: float("NaN") is what json.loads returns too


def loads(data: bytes) -> Any:
    """Parse a JSON document (raise ValueError when it is not one)."""
    text = data.decode("utf-8")
    try:
        from _json import make_scanner
    except ImportError:  # another Python implementation
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, end = make_scanner(_PlainJsonSettings())(text, start)  # type: ignore[arg-type]
    except StopIteration:
        raise ValueError(f"not JSON: {text[:80]!r}") from None
    if text[end:].strip(" \t\r\n"):
        raise ValueError(f"extra data after the JSON value: {text[end:end + 80]!r}")
    return value


def _string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\' or ord(char) < 0x20:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def filters_query(filters: Mapping[str, Sequence[str]]) -> str:
    """``{"label": ["a=b"]}`` as the percent-encoded JSON the engine's list filters take."""
    document = "{" + ",".join(
        f"{_string(key)}:[{','.join(_string(value) for value in values)}]"
        for key, values in filters.items()) + "}"
    return "".join(
        chr(byte) if chr(byte).isalnum() and byte < 0x80 or chr(byte) in "-_.~" else f"%{byte:02X}"
        for byte in document.encode("utf-8"))
