"""The pure side of `harborctl logs`: a log line's time, durations, merging services by time.

The log service's rsyslog writes one file per service, named after the syslog tag the compose
file gives it (``tag: core`` -> ``core.log``), each line starting with the time it was received:
RFC 3339 (``2026-12-01T13:19:08.123456+00:00 host core[42]: ...``) or, with rsyslog's
traditional template as in Harbor's own log image, ``Dec  1 13:19:08 host core[42]: ...``
(no year, no zone: taken as UTC, in the year that does not put the line in the future).
"""

from __future__ import annotations

import datetime as _dt
import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harborctl.errors import UsageError

_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_TRADITIONAL = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UTC = _dt.timezone.utc
# Time given to lines that precede any dated line of their file: they sort first.
EARLIEST = _dt.datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LogLine:
    service: str
    time: _dt.datetime  # when the line has none: the time of the line before it
    text: str  # without the line break


def parse_line_time(text: str, now: _dt.datetime | None = None) -> _dt.datetime | None:
    """The time a log line starts with (timezone-aware), or None when it starts with none
    (a continuation of a multi-line message, or a line from another writer)."""
    head = text.split(" ", 1)[0]
    if len(head) >= 19 and head[4:5] == "-" and head[10:11] == "T":
        return parse_iso_time(head)
    found = _TRADITIONAL.match(text)
    if found is None or found.group(1) not in _MONTHS:
        return None
    reference = now or _dt.datetime.now(UTC)
    month, day = _MONTHS[found.group(1)], int(found.group(2))
    hour, minute, second = (int(found.group(i)) for i in (3, 4, 5))
    for year in (reference.year, reference.year - 1):
        try:
            moment = _dt.datetime(year, month, day, hour, minute, second,
                                  tzinfo=UTC)
        except ValueError:  # 29 February of a year that has none
            continue
        if moment <= reference + _dt.timedelta(days=1):
            return moment
    return None


def parse_iso_time(head: str) -> _dt.datetime | None:
    """An RFC 3339 time (a naive one is taken as UTC), or None."""
    # fromisoformat of Python < 3.11 takes neither "Z" nor more than 6 digits of fraction.
    text = head[:-1] + "+00:00" if head.endswith("Z") else head
    zone_at = max(text.rfind("+"), text.rfind("-", 19))
    stamp, zone = (text[:zone_at], text[zone_at:]) if zone_at > 18 else (text, "+00:00")
    base, dot, fraction = stamp.partition(".")
    if dot:
        base += "." + fraction[:6].ljust(6, "0")
    try:
        moment = _dt.datetime.fromisoformat(base + zone)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> _dt.timedelta:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1h30m``; a bare number is seconds."""
    value = text.strip().lower()
    if value.isdigit():
        return _dt.timedelta(seconds=int(value))
    seconds, position = 0, 0
    for part in _DURATION.finditer(value):
        if part.start() != position:
            break
        seconds += int(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        position = part.end()
    if not value or position != len(value):
        raise UsageError(f"--since {text!r} is not a duration",
                         hint="write it as 90s, 10m, 2h, 1d or 1h30m")
    return _dt.timedelta(seconds=seconds)


def dated_lines(service: str, texts: Iterable[str], now: _dt.datetime | None = None,
                start: _dt.datetime = EARLIEST) -> Iterator[LogLine]:
    """Each text as a LogLine; a line without a time of its own keeps the previous one's, so
    that a multi-line message stays together when services are merged."""
    current = start
    for text in texts:
        current = parse_line_time(text, now) or current
        yield LogLine(service, current, text)


def since(lines: Iterable[LogLine], cutoff: _dt.datetime) -> Iterator[LogLine]:
    return (line for line in lines if line.time >= cutoff)


def merge_by_time(streams: Iterable[Iterable[LogLine]]) -> Iterator[LogLine]:
    """One stream ordered by time; each service's own order is kept (lines of equal time come
    in the order the services were given)."""
    return heapq.merge(*streams, key=lambda line: line.time)


def unknown_services(asked: Iterable[str], known: Iterable[str]) -> UsageError | None:
    known_names = list(known)
    missing = [name for name in asked if name not in known_names]
    if not missing:
        return None
    return UsageError(f"no service named {', '.join(missing)} in this deployment",
                      hint=f"the services are: {', '.join(known_names)}")
