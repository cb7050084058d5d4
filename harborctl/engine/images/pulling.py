"""Pulling from Docker Hub or a mirror: progress, a retry with backoff when the link to the
registry drops, a check that the tag now names what the registry served, and errors that name
the image and the mirror.

Credentials are the engine client's: the docker SDK sends the login stored by `docker login`
(``~/.docker/config.json``, or ``$DOCKER_CONFIG``) for the registry of each image.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from harborctl.engine.api.interface import Engine
from harborctl.engine.images.inventory import missing_images_error, normalize_image_name
from harborctl.errors import DockerUnavailableError, EngineError, HarborctlError

Report = Callable[[str], None]
Sleep = Callable[[float], None]

PROGRESS_STEP = 10  # percent between two progress reports
ATTEMPTS = 4  # one pull and three retries: 1 s, 2 s, 4 s apart
FIRST_BACKOFF = 1.0

# What the engine says when the registry is missing a tag or refuses the login: retrying
# cannot help, so these are never retried, whatever else the message holds.
_PERMANENT = ("manifest unknown", "not found", "unauthorized", "authentication required",
              "no basic auth credentials", "denied", "forbidden", "invalid reference")
# What it says when the link to the registry failed on the way: worth another try.
_TRANSIENT = ("connection reset", "connection refused", "unexpected eof", ": eof", "eof\"",
              "broken pipe", "i/o timeout", "timeout", "deadline exceeded", "tls handshake",
              "no route to host", "temporary failure", "server misbehaving", "502 bad gateway",
              "503 service unavailable", "504 gateway", "too many requests", "toomanyrequests")


def is_transient(message: str) -> bool:
    """Whether the engine's pull error is a dropped or failed link (not a refusal)."""
    text = message.lower()
    if any(marker in text for marker in _PERMANENT):
        return False
    return any(marker in text for marker in _TRANSIENT) or text.rstrip().endswith(" eof")


def split_reference(name: str) -> tuple[str, str]:
    """``(repository, tag or digest)`` of an image name: ``a/b:1`` and ``a/b@sha256:…``."""
    normalized = normalize_image_name(name)
    if "@" in normalized:
        repository, _, digest = normalized.partition("@")
        return repository, digest
    repository, _, tag = normalized.rpartition(":")
    return repository, tag


def registry_of(repository: str) -> str:
    """The registry host of a repository (``docker.io`` when the name has none)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def pull_images(engine: Engine, names: Sequence[str], report: Report,
                sleep: Sleep = time.sleep) -> None:
    """Pull each image, reporting progress; raise naming every image that could not be had."""
    failed: list[str] = []
    reasons: list[str] = []
    hints: list[str] = []
    for name in names:
        try:
            pull_one(engine, name, report, sleep)
        except DockerUnavailableError:
            raise
        except HarborctlError as exc:
            failed.append(name)
            reasons.append(f"{name}: {str(exc).splitlines()[0]}")
            if exc.hint and exc.hint not in hints:
                hints.append(exc.hint)
    if failed:
        error = missing_images_error(failed, "pulling failed:\n  " + "\n  ".join(reasons))
        if hints:  # the pull's own advice first; the offline bundle is always a way out
            error.hint = "; ".join([*hints, "or put the offline bundle (harbor.vX.Y.Z.tar.gz) "
                                    "next to harbor.cfg or pass --bundle PATH"])
        raise error


def pull_one(engine: Engine, name: str, report: Report, sleep: Sleep = time.sleep) -> str:
    """Pull ``name`` (retrying a dropped link), check it, return the digest the registry served
    ("" when the engine named none)."""
    repository, reference = split_reference(name)
    delay = FIRST_BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            digest = _pull_stream(engine, name, repository, reference, report)
            break
        except EngineError as exc:
            if attempt == ATTEMPTS or not is_transient(exc.message):
                raise _explained(name, repository, reference, exc) from exc
            report(f"pulling {name}: the link to {registry_of(repository)} failed "
                   f"({_first_line(exc.message)}); retrying in {delay:g} s "
                   f"(attempt {attempt + 1} of {ATTEMPTS})")
            sleep(delay)
            delay *= 2
    verify_pulled(engine, name, repository, reference, digest)
    report(f"pulled {name}" + (f" ({digest})" if digest else ""))
    return digest


def _pull_stream(engine: Engine, name: str, repository: str, reference: str,
                 report: Report) -> str:
    layers: dict[str, tuple[int, int]] = {}
    last = -PROGRESS_STEP
    digest = ""
    report(f"pulling {name}")
    for progress in engine.pull_image(repository, reference):
        if progress.digest:
            digest = progress.digest
            continue
        layers[progress.layer] = (progress.current, progress.total)
        total = sum(t for _, t in layers.values())
        if total:
            percent = sum(c for c, _ in layers.values()) * 100 // total
            if percent >= last + PROGRESS_STEP:
                report(f"pulling {name}: {percent}% of {total / 1e6:.0f} MB")
                last = percent
    return digest


def verify_pulled(engine: Engine, name: str, repository: str, reference: str,
                  digest: str) -> None:
    """The name asked for now resolves to the image the registry served: the digest asked for
    (``repo@sha256:…``) is the one served, and the image the tag names carries that digest."""
    mirror = repository.rpartition("/")[0] or registry_of(repository)
    if reference.startswith("sha256:") and digest and digest != reference:
        raise HarborctlError(f"{mirror} served {digest} for {name}, not the digest asked for",
                             hint="the mirror's copy differs from the release: refresh it")
    wanted = normalize_image_name(name)
    for image in engine.list_images():
        tags = {normalize_image_name(t) for t in image.tags}
        if wanted in tags or wanted in image.repo_digests:
            if digest and f"{repository}@{digest}" not in image.repo_digests:
                raise HarborctlError(
                    f"after pulling {name}, the image it names ({image.id[:19]}) does not carry "
                    f"the digest {mirror} served ({digest})",
                    hint="something re-tagged it during the pull; run the install again")
            return
    raise HarborctlError(f"the engine reported {name} pulled, yet has no image of that name",
                         hint="run the install again; if it persists, `docker pull` it by hand")


def _explained(name: str, repository: str, reference: str, exc: EngineError) -> HarborctlError:
    text = exc.message.lower()
    mirror = repository.rpartition("/")[0] or registry_of(repository)
    separator = "@" if reference.startswith("sha256:") else ":"
    image = f"{repository.rpartition('/')[2]}{separator}{reference}"
    registry = registry_of(repository)
    first = _first_line(exc.message)
    if any(m in text for m in ("unauthorized", "authentication required", "no basic auth")):
        return HarborctlError(
            f"{registry} refused to serve {name} without a login ({first})",
            hint=f"log in once with `docker login {registry}` as the user running harborctl: "
                 "harborctl pulls with the engine's stored credentials")
    if "manifest unknown" in text or "not found" in text or exc.status_code == 404:
        return HarborctlError(
            f"{image} is missing on {mirror} ({first})",
            hint=f"push {image} to {mirror}, or set image_source in harbor.cfg to a mirror "
                 "that has it")
    if is_transient(exc.message):
        return HarborctlError(f"{registry} kept failing while pulling {name}, {ATTEMPTS} tries: "
                              f"{first}", hint=f"check the network path to {registry}")
    return HarborctlError(f"pulling {name} failed: {first}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no reason given"
