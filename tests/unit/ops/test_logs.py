"""The pure side of `harborctl logs`: times, durations, merging, --since, the last lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from harborctl.errors import EngineError, UsageError
from harborctl.ops.logfiles import all_lines, last_lines
from harborctl.ops.logs import (
    EARLIEST,
    UTC,
    dated_lines,
    merge_by_time,
    parse_duration,
    parse_line_time,
    since,
    unknown_services,
)
from harborctl.ops.logsources import LogSource, recent_lines

NOW = dt.datetime(2026, 12, 1, 13, 0, 0, tzinfo=UTC)


def stamp(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(timespec="microseconds")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T13:19:08.123456+00:00 host core[42]: hello",
     dt.datetime(2026, 12, 1, 13, 19, 8, 123456, tzinfo=UTC)),
    ("2026-12-01T14:19:08.5+01:00 host core: x",
     dt.datetime(2026, 12, 1, 13, 19, 8, 500000, tzinfo=UTC)),
    ("2026-12-01T13:19:08.123456789Z host core: nanoseconds",
     dt.datetime(2026, 12, 1, 13, 19, 8, 123456, tzinfo=UTC)),
    ("Nov 30 23:59:01 172.18.0.1 registry[7]: traditional",
     dt.datetime(2026, 11, 30, 23, 59, 1, tzinfo=UTC)),
    ("Dec 31 10:00:00 host core: last year's, not in the future",
     dt.datetime(2025, 12, 31, 10, 0, 0, tzinfo=UTC)),
    ("    at goroutine 7 (a continuation line)", None),
    ("", None),
    ("Foo 12 10:00:00 host core: no such month", None),
])
def test_line_time(text: str, expected: dt.datetime | None) -> None:
    assert parse_line_time(text, NOW) == expected


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("45", 45),
])
def test_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10x", "m10", "1h 30m", "-5m", "ten minutes"])
def test_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(text)


def test_merge_orders_by_time_and_keeps_continuations_with_their_line() -> None:
    core = [f"{stamp(5)} h core: a", "  continued a", f"{stamp(1)} h core: c"]
    registry = [f"{stamp(3)} h registry: b", f"{stamp(0)} h registry: d"]
    merged = list(merge_by_time([dated_lines("core", core, NOW),
                                 dated_lines("registry", registry, NOW)]))
    assert [(line.service, line.text.split(": ")[-1]) for line in merged] == [
        ("core", "a"), ("core", "  continued a"), ("registry", "b"), ("core", "c"),
        ("registry", "d")]


def test_since_keeps_only_recent_lines() -> None:
    texts = [f"{stamp(30)} h core: old", f"{stamp(9)} h core: new", "  its continuation"]
    kept = list(since(dated_lines("core", texts, NOW), NOW - dt.timedelta(minutes=10)))
    assert [line.text.split(": ")[-1] for line in kept] == ["new", "  its continuation"]


def test_lines_before_any_time_sort_first() -> None:
    assert next(dated_lines("log", ["no time here"], NOW)).time == EARLIEST


def test_unknown_service_lists_the_services() -> None:
    problem = unknown_services(["core", "nope"], ["log", "core"])
    assert problem is not None and "nope" in problem.message
    assert problem.hint == "the services are: log, core"
    assert unknown_services(["core"], ["log", "core"]) is None


def write_lines(path: Path, count: int, partial: str = "") -> None:
    path.write_text("".join(f"line {i}\n" for i in range(count)) + partial)


@pytest.mark.parametrize("count", [0, 1, 5, 100])
def test_last_lines_of_a_file_larger_than_a_block(tmp_path: Path, count: int) -> None:
    path = tmp_path / "core.log"
    write_lines(path, 20_000)  # about 200 kB: several blocks back from the end
    lines, end = last_lines(path, count)
    assert lines == [f"line {i}" for i in range(20_000 - count, 20_000)]
    assert end == path.stat().st_size


def test_last_lines_with_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    write_lines(path, 3, partial="half a li")
    lines, end = last_lines(path, 2)
    assert lines == ["line 2", "half a li"]
    assert end == path.stat().st_size - len("half a li")  # following starts at the partial
    assert last_lines(path, 2, keep_partial=False)[0] == ["line 1", "line 2"]


def test_last_lines_of_short_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text("")
    assert last_lines(path, 10) == ([], 0)
    write_lines(path, 2)
    assert last_lines(path, 10)[0] == ["line 0", "line 1"]
    path.write_text("\n\nx\n")
    assert last_lines(path, 10)[0] == ["", "", "x"]


def test_all_lines_streams_every_line(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    write_lines(path, 3, partial="tail")
    assert list(all_lines(path)) == ["line 0", "line 1", "line 2", "tail"]


def test_recent_lines_merges_files_and_the_engine_log(tmp_path: Path) -> None:
    (tmp_path / "core.log").write_text(
        f"{stamp(20)} h core: too old\n{stamp(8)} h core: one\n{stamp(2)} h core: three\n")
    (tmp_path / "registry.log").write_text(f"{stamp(5)} h registry: two\n")
    sources = [LogSource("core", tmp_path / "core.log", "c1"),
               LogSource("registry", tmp_path / "registry.log", "c2"),
               LogSource("log", None, "c3")]
    asked: list[tuple[str, int]] = []

    def engine_log(container_id: str, tail: int) -> str:
        asked.append((container_id, tail))
        return "rsyslogd starting\n"

    lines = list(recent_lines(sources, 2, NOW - dt.timedelta(minutes=10), engine_log, NOW))
    assert [line.text.split(": ")[-1] for line in lines] == [
        "rsyslogd starting", "one", "two", "three"]
    assert asked == [("c3", 2)]
    only_last = list(recent_lines(sources[:2], 1, None, engine_log, NOW))
    assert [line.text.split(": ")[-1] for line in only_last] == ["two", "three"]


def test_a_service_whose_file_is_missing_falls_back_to_the_engine(tmp_path: Path) -> None:
    source = LogSource("core", tmp_path / "core.log", "c1")
    lines = list(recent_lines([source], 5, None, lambda cid, tail: f"{cid}: from the engine\n"))
    assert [line.text for line in lines] == ["c1: from the engine"]


def test_a_partial_last_line_is_left_to_the_follower(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text(f"{stamp(2)} h core: whole\n{stamp(1)} h core: half")
    source = [LogSource("core", path, None)]
    cutoff = NOW - dt.timedelta(minutes=10)
    for count, since_cutoff in ((5, None), (None, cutoff)):
        shown = [line.text[-5:] for line in recent_lines(source, count, since_cutoff,
                                                          lambda c, t: "", NOW)]
        assert shown == ["whole", " half"]
        following = [line.text[-5:] for line in recent_lines(
            source, count, since_cutoff, lambda c, t: "", NOW, keep_partial=False)]
        assert following == ["whole"]


def test_an_engine_that_gives_no_log_says_so() -> None:
    def refuses(container_id: str, tail: int) -> str:
        raise EngineError('configured logging driver does not support reading', 501)

    [line] = recent_lines([LogSource("log", None, "c1")], 5, None, refuses, NOW)
    assert line.text == ("(log: the engine gives no log: configured logging driver does not "
                         "support reading)")
