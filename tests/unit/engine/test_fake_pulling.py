"""Pulling through a mirror on the fake engine: a dropped link retried with backoff, the digest
served checked against the image the tag names, a login or a missing tag named plainly."""

from __future__ import annotations

import pytest

from harborctl.engine.images.fetch import ensure_images
from harborctl.engine.images.pulling import (
    ATTEMPTS,
    is_transient,
    pull_one,
    registry_of,
    split_reference,
)
from harborctl.errors import (
    DockerUnavailableError,
    EngineError,
    EngineNotFoundError,
    HarborctlError,
)
from tests.unit.engine.fake_engine import FakeEngine

MIRROR = "mirror.example.com:5000/mirror/goharbor"
CORE = f"{MIRROR}/harbor-core:v1.7.5"
LOG = f"{MIRROR}/harbor-log:v1.7.5"


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


def mirror_engine() -> FakeEngine:
    engine = FakeEngine()
    engine.pullable = {CORE: "sha256:core", LOG: "sha256:log"}
    return engine


def test_a_dropped_link_is_retried_with_a_growing_wait() -> None:
    engine = mirror_engine()
    engine.drop_pulls[CORE] = 2
    waits: list[float] = []
    report = Lines()
    digest = pull_one(engine, CORE, report, waits.append)
    assert waits == [1.0, 2.0]
    assert engine.names_of("pull_image") == [CORE] * 3
    retries = [line for line in report if "retrying" in line]
    assert len(retries) == 2
    assert "the link to mirror.example.com:5000 failed" in retries[0]
    assert "connection reset by peer" in retries[0] and "attempt 2 of 4" in retries[0]
    assert report[-1] == f"pulled {CORE} ({digest})"
    assert engine.images[CORE] == "sha256:core"


def test_a_link_that_keeps_dropping_fails_after_the_last_attempt() -> None:
    engine = mirror_engine()
    engine.drop_pulls[CORE] = ATTEMPTS
    waits: list[float] = []
    with pytest.raises(HarborctlError) as caught:
        ensure_images_with(engine, [CORE, LOG], waits)
    assert waits == [1.0, 2.0, 4.0]
    assert f"{CORE}: mirror.example.com:5000 kept failing while pulling" in caught.value.message
    assert LOG not in caught.value.message.split("not available on this host: ")[1].split("\n")[0]
    assert "check the network path to mirror.example.com:5000" in str(caught.value.hint)
    assert engine.images[LOG] == "sha256:log"  # the others are still pulled


def ensure_images_with(engine: FakeEngine, names: list[str], waits: list[float]) -> None:
    from harborctl.engine.images.pulling import pull_images

    pull_images(engine, names, Lines(), waits.append)


def test_a_missing_tag_names_the_image_and_the_mirror_and_is_not_retried() -> None:
    engine = mirror_engine()
    engine.fail("pull_image", EngineNotFoundError(
        f"manifest for {CORE} not found: manifest unknown: manifest unknown", 404), CORE)
    waits: list[float] = []
    with pytest.raises(HarborctlError) as caught:
        ensure_images_with(engine, [CORE], waits)
    assert waits == [] and engine.names_of("pull_image") == [CORE]
    assert f"harbor-core:v1.7.5 is missing on {MIRROR}" in caught.value.message
    assert f"push harbor-core:v1.7.5 to {MIRROR}" in str(caught.value.hint)
    assert "image_source" in str(caught.value.hint)


def test_a_mirror_that_wants_a_login_says_which_docker_login() -> None:
    engine = mirror_engine()
    engine.fail("pull_image", EngineError(
        "Head \"http://mirror.example.com:5000/v2/mirror/goharbor/harbor-core/manifests/v1.7.5\""
        ": no basic auth credentials", 500))
    with pytest.raises(HarborctlError) as caught:
        ensure_images_with(engine, [CORE], [])
    assert "mirror.example.com:5000 refused to serve" in caught.value.message
    assert "docker login mirror.example.com:5000" in str(caught.value.hint)
    assert engine.names_of("pull_image") == [CORE]


def test_a_digest_that_is_not_the_one_the_tag_carries_is_refused() -> None:
    engine = mirror_engine()
    engine.served_digest[CORE] = "sha256:" + "0" * 64
    with pytest.raises(HarborctlError, match="does not carry the digest"):
        pull_one(engine, CORE, Lines(), lambda _: None)


def test_a_pinned_digest_must_be_the_one_served() -> None:
    engine = mirror_engine()
    pinned = f"{MIRROR}/harbor-core@sha256:{'1' * 64}"
    engine.pullable[pinned] = "sha256:core"
    with pytest.raises(HarborctlError, match="not the digest asked for"):
        pull_one(engine, pinned, Lines(), lambda _: None)
    assert engine.names_of("pull_image") == [pinned]


def test_the_engine_gone_is_not_an_image_problem() -> None:
    engine = mirror_engine()
    engine.fail("pull_image", DockerUnavailableError("cannot reach the Docker engine"))
    with pytest.raises(DockerUnavailableError):
        ensure_images(engine, [CORE, LOG], Lines())
    assert engine.names_of("pull_image") == [CORE]


@pytest.mark.parametrize(("message", "transient"), [
    ('Get "http://127.0.0.1:5000/v2/": EOF', True),
    ("unexpected EOF", True),
    ("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", True),
    ("net/http: TLS handshake timeout", True),
    ("toomanyrequests: You have reached your pull rate limit", True),
    ("manifest for a:1 not found: manifest unknown: manifest unknown", False),
    ("unauthorized: authentication required", False),
    ("pull access denied for a, repository does not exist", False),
    ("invalid reference format", False),
])
def test_which_errors_are_worth_a_retry(message: str, transient: bool) -> None:
    assert is_transient(message) is transient


def test_names_split_into_repository_and_reference() -> None:
    assert split_reference("redis") == ("redis", "latest")
    assert split_reference("127.0.0.1:5000/m/core:v1") == ("127.0.0.1:5000/m/core", "v1")
    assert split_reference("m.io/core@sha256:ab") == ("m.io/core", "sha256:ab")
    assert registry_of("127.0.0.1:5000/m/core") == "127.0.0.1:5000"
    assert registry_of("goharbor/harbor-core") == "docker.io"
    assert registry_of("localhost/x") == "localhost"


def test_the_image_list_carries_the_digests_of_the_registries() -> None:
    from harborctl.engine.api.interface import image_summaries

    [image] = image_summaries([{"Id": "sha256:i", "RepoTags": ["m.io/core:v1"],
                                "RepoDigests": ["m.io/core@sha256:d"]}])
    assert image.repo_digests == ("m.io/core@sha256:d",)
    [bare] = image_summaries([{"Id": "sha256:j", "RepoTags": None, "RepoDigests": None}])
    assert bare.tags == () and bare.repo_digests == ()
