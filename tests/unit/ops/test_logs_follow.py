"""Following the log files: new lines, partial lines, logrotate's truncation and replacement,
and a line appended by another thread shown within a second."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from harborctl.ops.logfiles import FileFollower, last_lines
from harborctl.ops.logsources import LogSource, follow, start_offsets


def append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


def test_new_lines_only_once_whole(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text("old 1\nold 2\n")
    follower = FileFollower(path, last_lines(path, 0)[1])
    assert follower.poll() == []
    append(path, "new 1\nnew 2 is half")
    assert follower.poll() == ["new 1"]
    append(path, " written\n")
    assert follower.poll() == ["new 2 is half written"]
    follower.close()


def test_copytruncate_rotation_starts_again_at_the_top(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text("before rotation, long enough to be past the new size\n")
    follower = FileFollower(path, path.stat().st_size)
    with open(path, "r+") as handle:  # what logrotate's copytruncate does after copying
        handle.truncate(0)
    append(path, "after\n")
    assert follower.poll() == ["after"]
    follower.close()


def test_replaced_file_is_finished_then_the_new_one_read(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text("first\n")
    follower = FileFollower(path, path.stat().st_size)
    append(path, "last of the old file\n")
    os.rename(path, tmp_path / "core.log.1")
    assert follower.poll() == ["last of the old file"]  # renamed away, not yet re-created
    path.write_text("first of the new file\n")
    assert follower.poll() == ["first of the new file"]
    append(path, "second\n")
    assert follower.poll() == ["second"]
    follower.close()


def test_a_file_that_appears_later_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    follower = FileFollower(path, 0)
    assert follower.poll() == []
    path.write_text("hello\n")
    assert follower.poll() == ["hello"]
    follower.close()


def test_follow_merges_each_poll_by_time(tmp_path: Path) -> None:
    core, registry = tmp_path / "core.log", tmp_path / "registry.log"
    core.write_text("")
    registry.write_text("")
    sources = [LogSource("core", core, None), LogSource("registry", registry, None)]
    offsets = start_offsets(sources)
    append(core, "2026-12-01T13:00:02+00:00 h core: second\n")
    append(registry, "2026-12-01T13:00:01+00:00 h registry: first\n")
    polls = iter([True, False])
    lines = list(follow(sources, offsets, lambda: next(polls), sleep=lambda _: None))
    assert [line.service for line in lines] == ["registry", "core"]


def test_follow_shows_a_line_appended_by_another_thread_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "core.log"
    path.write_text("2026-12-01T13:00:00+00:00 h core: already there\n")
    sources = [LogSource("core", path, None)]
    offsets = start_offsets(sources)
    done = threading.Event()
    seen: list[tuple[str, float]] = []

    def reader() -> None:
        for line in follow(sources, offsets, lambda: not done.is_set(), interval=0.05):
            seen.append((line.text, time.monotonic()))
            done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    written = time.monotonic()
    append(path, "2026-12-01T13:00:05+00:00 h core: written by the test\n")
    done.wait(2)
    done.set()
    thread.join(2)
    assert [text for text, _ in seen] == ["2026-12-01T13:00:05+00:00 h core: written by the test"]
    assert seen[0][1] - written < 1.0
