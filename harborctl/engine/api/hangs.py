"""An engine that stops answering: how long each kind of call may take, and the one sentence
harborctl says when a call outlives it.

Docker 20.10.0-20.10.26 (Debian 12 ships 20.10.24) can deadlock in its network code when
containers on one network stop at the same time (moby/moby#46661, fixed in 20.10.27): every
later call about such a container hangs until the daemon is restarted.
"""

from __future__ import annotations

from harborctl.errors import EngineHungError

# Seconds an engine call may go without an answer. A healthy engine answers a look (list,
# inspect, version) in milliseconds even on a loaded host; a change (create, start, remove, a
# network) in well under a second; a stop needs the container's grace period on top.
LOOK_S = 30
CHANGE_S = 60
STOP_EXTRA_S = 30  # beyond the container's own grace period (its kill comes at the end of it)
PROBE_VERSION_S = 3  # asking the version for the advice, once a call has hung

DEADLOCK_FIRST = (20, 10, 0)
DEADLOCK_FIXED = (20, 10, 27)
RESTART_ADVICE = ("restart the engine (`systemctl restart docker`), then `harborctl start` "
                  "(the boot unit does it by itself)")


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("+")[0].split("-")[0].split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def has_known_deadlock(server_version: str) -> bool:
    """Whether this engine version has the stop deadlock of moby/moby#46661."""
    version = version_tuple(server_version)
    return len(version) >= 3 and DEADLOCK_FIRST <= version[:3] < DEADLOCK_FIXED


def deadlock_warning(server_version: str) -> str | None:
    """install's one warning about the engine, or None for an engine without the defect."""
    if not has_known_deadlock(server_version):
        return None
    return (f"warning: Docker {server_version} has a known deadlock when containers on one "
            "network stop at the same time (moby/moby#46661, fixed in 20.10.27): harborctl stops "
            "them one at a time; upgrade the engine to 20.10.27 or later")


def hung_hint(server_version: str) -> str:
    if has_known_deadlock(server_version):
        return (f"Docker {server_version} has a known deadlock in its network code "
                f"(moby/moby#46661, fixed in 20.10.27; upgrade it): {RESTART_ADVICE}")
    if server_version:
        return RESTART_ADVICE
    return (f"{RESTART_ADVICE}; on Docker 20.10.0-20.10.26 this is likely the known deadlock "
            "moby/moby#46661, fixed in 20.10.27")


def no_answer(call: str, seconds: float, server_version: str = "") -> EngineHungError:
    """The error for ``call`` (e.g. "the stop of container 0123abcd") unanswered after
    ``seconds``."""
    return EngineHungError(
        f"the Docker engine did not answer {call} within {seconds:g} s and may be hung",
        hint=hung_hint(server_version))
