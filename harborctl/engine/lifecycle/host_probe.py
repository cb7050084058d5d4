"""A container's HTTP health check, sent from the host instead of run through ``exec``.

Every check harborctl renders for an HTTP service is a ``curl`` of the container's own loopback.
The same request, sent by harborctl to the container's address on its network, reaches the
same listener and gets the same answer, for about a millisecond of CPU; an ``exec`` of curl
costs the engine a runc process and a shim round-trip, about 0.1 CPU s on the test host (ten
services checked that way every second kept half of a 2-core host busy, at rest as during an
install). Only a check that is nothing but curl requests to ``127.0.0.1``/``localhost`` is
translated, each option understood; anything else (a script, a pipe, https verified against a
certificate) is left to ``exec`` and to Docker.
"""

from __future__ import annotations

import enum
import errno
import http.client
import shlex
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
# Options that change nothing of the request or of what counts as success.
QUIET_FLAGS = frozenset("sS")
SHORT_FLAGS = QUIET_FLAGS | {"f", "k"}
LONG_FLAGS = {"--silent": "s", "--show-error": "S", "--fail": "f", "--insecure": "k"}
OUTPUT_OPTIONS = ("-o", "--output")
SHELL_SPECIALS = set(";&|<>$`()\\\n*?[]{}~#'\"")


@dataclass(frozen=True)
class HttpCheck:
    """One curl request: ``fail`` (``--fail``) makes an HTTP error status (400 and up) a
    failure; without it any HTTP answer passes and only no answer fails, as with curl."""

    scheme: str  # http, or https with certificate checks off (curl -k)
    port: int
    target: str  # path and query
    fail: bool


def http_checks(test: tuple[str, ...]) -> tuple[HttpCheck, ...]:
    """The curl requests of a compose ``test`` (any one passing passes), or ``()`` when the
    test is anything else."""
    if len(test) >= 2 and test[0] == "CMD":
        check = _curl(test[1:])
        return (check,) if check else ()
    if len(test) == 2 and test[0] == "CMD-SHELL":
        alternatives = test[1].split("||")
        if any(set(part) & SHELL_SPECIALS for part in alternatives):
            return ()
        found = tuple(_curl(tuple(shlex.split(part))) for part in alternatives)
        return () if None in found else tuple(c for c in found if c)
    return ()


def _curl(argv: tuple[str, ...]) -> HttpCheck | None:
    if not argv or argv[0] != "curl":
        return None
    flags: set[str] = set()
    urls: list[str] = []
    words = iter(argv[1:])
    for word in words:
        if word in OUTPUT_OPTIONS:
            if next(words, None) != "/dev/null":
                return None
        elif word in LONG_FLAGS:
            flags.add(LONG_FLAGS[word])
        elif word.startswith("-") and len(word) > 1 and set(word[1:]) <= SHORT_FLAGS:
            flags.update(word[1:])
        elif word.startswith("-"):
            return None
        else:
            urls.append(word)
    return _check(urls[0], flags) if len(urls) == 1 else None


def _check(url: str, flags: set[str]) -> HttpCheck | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.hostname not in LOOPBACK_NAMES or parts.username or parts.password:
        return None
    if parts.scheme == "http" or (parts.scheme == "https" and "k" in flags):
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = 80 if parts.scheme == "http" else 443
        return HttpCheck(parts.scheme, port or default, target, "f" in flags)
    return None


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # an answer: refused, an HTTP error status, not HTTP at all
    UNREACHABLE = "unreachable"  # no answer: no route, or silence until the timeout


# Errors that say the address is not reachable from here (rootless Docker: the containers'
# network is in a namespace of its own); a refused connection is an answer.
UNREACHABLE_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN})


def probe(checks: tuple[HttpCheck, ...], address: str, timeout: float) -> Outcome:
    """Send ``checks`` to ``address`` (``timeout`` s each): PASSED when any passes, UNREACHABLE
    when none got an answer, FAILED otherwise."""
    outcomes = set()
    for check in checks:
        outcome = _probe_one(check, address, timeout)
        if outcome is Outcome.PASSED:
            return outcome
        outcomes.add(outcome)
    return Outcome.UNREACHABLE if outcomes == {Outcome.UNREACHABLE} else Outcome.FAILED


def passes(checks: tuple[HttpCheck, ...], address: str, timeout: float) -> bool:
    """Whether any of ``checks``, sent to ``address``, passes within ``timeout`` s each."""
    return probe(checks, address, timeout) is Outcome.PASSED


def _probe_one(check: HttpCheck, address: str, timeout: float) -> Outcome:
    connection: http.client.HTTPConnection
    if check.scheme == "https":
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(address, check.port, timeout=timeout,
                                                 context=unverified)
    else:
        connection = http.client.HTTPConnection(address, check.port, timeout=timeout)
    try:
        connection.request("GET", check.target, headers={"User-Agent": "harborctl-probe"})
        status = connection.getresponse().status
    except (TimeoutError, socket.timeout):  # one class from Python 3.10 on
        return Outcome.UNREACHABLE
    except OSError as exc:
        return Outcome.UNREACHABLE if exc.errno in UNREACHABLE_ERRNOS else Outcome.FAILED
    except http.client.HTTPException:
        return Outcome.FAILED
    finally:
        connection.close()
    return Outcome.PASSED if status < 400 or not check.fail else Outcome.FAILED
