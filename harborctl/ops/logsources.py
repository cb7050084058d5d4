"""Where each service's log is, and reading it: the log service's file for the service when it
has one, the engine's own log of its container otherwise (the log service itself, a service
that has not logged yet, a compose file edited to another driver)."""

from __future__ import annotations

import datetime as _dt
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harborctl.engine.compose.model import ComposeProject, Service
from harborctl.errors import EngineError
from harborctl.ops.logfiles import FileFollower, all_lines, last_lines
from harborctl.ops.logs import EARLIEST, UTC, LogLine, dated_lines, merge_by_time, since

# The engine's log of a container: (container ID, how many last lines) -> text.
EngineLog = Callable[[str, int], str]
# Without -n and without --since, as many lines as `engine_logs` gives back at most.
ENGINE_TAIL_LIMIT = 10_000


@dataclass(frozen=True)
class LogSource:
    service: str
    file: Path | None  # where the log service writes this service's lines; None: not syslog
    container_id: str | None  # its container, for the engine's log

    @property
    def has_file(self) -> bool:
        return self.file is not None and self.file.is_file()


def syslog_file(service: Service, log_location: Path) -> Path | None:
    """The file rsyslog writes for ``service``: named after its syslog tag."""
    logging = service.logging
    if logging is None or logging.driver != "syslog":
        return None
    tag = dict(logging.options).get("tag", service.name)
    if not tag or "{{" in tag or "/" in tag:  # a Go template or path: not a name we can derive
        tag = service.name
    return log_location / f"{tag}.log"


def log_sources(project: ComposeProject, log_location: Path, asked: Sequence[str],
                container_ids: dict[str, str]) -> list[LogSource]:
    names = list(asked) or list(project.service_names)
    return [LogSource(name, syslog_file(project.service(name), log_location),
                      container_ids.get(name)) for name in names]


def _engine_lines(source: LogSource, count: int | None, engine_log: EngineLog,
                  now: _dt.datetime) -> list[LogLine]:
    if source.container_id is None:
        return []
    try:
        text = engine_log(source.container_id,
                          count if count is not None else ENGINE_TAIL_LIMIT)
    except EngineError as exc:  # e.g. an engine before 20.10 reads no syslog-driver log
        return [LogLine(source.service, EARLIEST,
                        f"({source.service}: the engine gives no log: {exc.message})")]
    return list(dated_lines(source.service, text.splitlines(), now))


def _file_lines(source: LogSource, count: int | None, cutoff: _dt.datetime | None,
                now: _dt.datetime, keep_partial: bool) -> Iterator[LogLine]:
    assert source.file is not None
    if cutoff is None:
        lines, _ = last_lines(source.file, count if count is not None else ENGINE_TAIL_LIMIT,
                              keep_partial)
        return dated_lines(source.service, lines, now)
    kept = since(dated_lines(source.service, all_lines(source.file, keep_partial), now),
                 cutoff)
    return iter(deque(kept, maxlen=count)) if count is not None else kept


def recent_lines(sources: Iterable[LogSource], count: int | None, cutoff: _dt.datetime | None,
                 engine_log: EngineLog, now: _dt.datetime | None = None,
                 keep_partial: bool = True) -> Iterator[LogLine]:
    """The last ``count`` lines of each source (all of them when None) since ``cutoff``, merged
    by time. A line of the engine's log without a time of its own cannot be placed: it comes
    first, and --since keeps it. ``keep_partial=False`` leaves out a file's unfinished last
    line, for a follower that will give it once it is whole."""
    moment = now or _dt.datetime.now(UTC)
    streams: list[Iterable[LogLine]] = []
    for source in sources:
        if source.has_file:
            streams.append(_file_lines(source, count, cutoff, moment, keep_partial))
            continue
        lines = _engine_lines(source, count, engine_log, moment)
        if cutoff is not None:
            lines = [line for line in lines if line.time == EARLIEST or line.time >= cutoff]
        streams.append(lines)
    return merge_by_time(streams)


def start_offsets(sources: Iterable[LogSource]) -> dict[str, int]:
    """Where following starts in each file: after its last whole line."""
    offsets = {}
    for source in sources:
        if source.has_file:
            assert source.file is not None
            offsets[source.service] = last_lines(source.file, 0)[1]
    return offsets


def follow(sources: Sequence[LogSource], offsets: dict[str, int], keep_going: Callable[[], bool],
           interval: float = 0.2, sleep: Callable[[float], None] = time.sleep
           ) -> Iterator[LogLine]:
    """Lines written to the sources' files from ``offsets`` on, as they come, until
    ``keep_going`` says no; each poll's lines are ordered by time across services. A file
    that does not exist yet is looked for at every poll."""
    followers = {s.service: FileFollower(s.file, offsets.get(s.service, 0))
                 for s in sources if s.file is not None}
    last_time = {service: EARLIEST for service in followers}
    try:
        while keep_going():
            batch: list[LogLine] = []
            for service, follower in followers.items():
                for line in dated_lines(service, follower.poll(), start=last_time[service]):
                    last_time[service] = line.time
                    batch.append(line)
            yield from sorted(batch, key=lambda line: line.time)
            if not batch:
                sleep(interval)
    finally:
        for follower in followers.values():
            follower.close()
