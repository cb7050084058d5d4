"""Build harborctl's test images: realistic stand-ins for Harbor's images (1.7.5 and 2.15), made
locally.

No container registry is reachable on a test host, so the real ``goharbor/*`` images cannot be
pulled. This module builds a Debian base image with debootstrap (nginx, redis, PostgreSQL, the
distribution registry, rsyslog, Python) and thin component images on top of it, tagged with the
real Harbor names. They are test fixtures: harborctl itself never ships or builds them.

    ensure_images(client=None, release="v1.7.5") -> list of the component tags
    ensure_images(client, release=V2_RELEASE)   -> the Harbor 2.15 look-alikes' tags
    python -m tests.images.build [--release vX] [--bundle DIR]

Every image carries the label ``harborctl.test=1`` and ``harborctl.test.recipe=<hash of what
built it>``; an image whose recipe is unchanged is not rebuilt, so a warm run takes about a second.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

HERE = Path(__file__).resolve().parent

TEST_LABEL = "harborctl.test"
RECIPE_LABEL = "harborctl.test.recipe"
COMPONENT_LABEL = "harborctl.test.component"

BASE_REPOSITORY = "harborctl-test/base"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = (
    "nginx-light",
    "redis-server",
    "postgresql",
    "docker-registry",
    "rsyslog",
    "logrotate",
    "ca-certificates",
    "curl",
    "net-tools",
    "python3",
    "python3-psycopg2",
    "python3-redis",
    "python3-jwt",
    "python3-cryptography",
    # debootstrap does not resolve virtual packages: python3-cryptography needs this one.
    "python3-cffi-backend",
    "python3-yaml",
    "tini",
)
# Settings given to `docker import`; part of the base recipe.
BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONUNBUFFERED=1",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    'CMD ["/bin/bash"]',
)

LOCK_PATH = Path(tempfile.gettempdir()) / "harborctl-test-images.lock"


@dataclass(frozen=True)
class Component:
    """One Harbor service: its directory under tests/images/ and its real image name."""

    service: str
    repository: str
    version: str  # with "{release}" where the Harbor release goes
    # The folder under tests/images/ (default: the service's name) and the Dockerfile in it: a
    # 2.15 look-alike shares its folder, and so its programs, with the 1.7.5 one.
    directory: str = ""
    dockerfile: str = "Dockerfile"

    def tag(self, release: str) -> str:
        return f"{self.repository}:{self.version.format(release=release)}"

    @property
    def folder(self) -> str:
        return self.directory or self.service


# The services of a Harbor 1.7.5 deployment (compose service names) and their real image names.
COMPONENTS: tuple[Component, ...] = (
    Component("log", "goharbor/harbor-log", "{release}"),
    Component("registry", "goharbor/registry-photon", "v2.6.2-{release}"),
    Component("registryctl", "goharbor/harbor-registryctl", "{release}"),
    Component("postgresql", "goharbor/harbor-db", "{release}"),
    Component("adminserver", "goharbor/harbor-adminserver", "{release}"),
    Component("core", "goharbor/harbor-core", "{release}"),
    Component("portal", "goharbor/harbor-portal", "{release}"),
    Component("jobservice", "goharbor/harbor-jobservice", "{release}"),
    Component("redis", "goharbor/redis-photon", "{release}"),
    Component("proxy", "goharbor/nginx-photon", "{release}"),
    Component("chartmuseum", "goharbor/chartmuseum-photon", "v0.8.1-{release}"),
)

# Harbor 2.15's services and images (harborctl/plan/harbor_2_15.py: every image is tagged with
# the release; redis runs valkey-photon).
V2_RELEASE = "v2.15.2"
COMPONENTS_V2: tuple[Component, ...] = (
    Component("log", "goharbor/harbor-log", "{release}"),
    Component("registry", "goharbor/registry-photon", "{release}", dockerfile="Dockerfile.v2"),
    Component("registryctl", "goharbor/harbor-registryctl", "{release}",
              dockerfile="Dockerfile.v2"),
    Component("postgresql", "goharbor/harbor-db", "{release}"),
    Component("core", "goharbor/harbor-core", "{release}", dockerfile="Dockerfile.v2"),
    Component("portal", "goharbor/harbor-portal", "{release}", dockerfile="Dockerfile.v2"),
    Component("jobservice", "goharbor/harbor-jobservice", "{release}",
              dockerfile="Dockerfile.v2"),
    Component("redis", "goharbor/valkey-photon", "{release}", dockerfile="Dockerfile.v2"),
    Component("proxy", "goharbor/nginx-photon", "{release}", dockerfile="Dockerfile.v2"),
    Component("trivy-adapter", "goharbor/trivy-adapter-photon", "{release}"),
    Component("exporter", "goharbor/harbor-exporter", "{release}"),
)


def components_of(release: str) -> tuple[Component, ...]:
    """The look-alikes of a release: 2.x tags get the 2.15 set, anything else 1.7.5's."""
    return COMPONENTS_V2 if release.startswith("v2.") else COMPONENTS


def image_tags(release: str = "v1.7.5") -> dict[str, str]:
    """The image tag of each service (keys are the compose service names of harbor-facts §3)."""
    return {c.service: c.tag(release) for c in components_of(release)}


def _log(message: str) -> None:
    print(f"test-images: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Recipes


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def base_recipe_hash() -> str:
    """Hash of what makes the base image: suite, packages, the rootfs script, import settings."""
    script = (HERE / "base" / "mkrootfs.sh").read_bytes()
    return _sha256(
        b"base-recipe-1",
        SUITE.encode(),
        ",".join(sorted(BASE_PACKAGES)).encode(),
        script,
        "\n".join(BASE_CHANGES).encode(),
    )


def base_tag() -> str:
    return f"{BASE_REPOSITORY}:{base_recipe_hash()[:16]}"


def _context_files(component: Component) -> list[tuple[str, Path]]:
    """(name in the build context, source) for a component: its folder plus common/. The
    folder's other Dockerfiles stay out, so that each variant's recipe is its own."""
    files: list[tuple[str, Path]] = []
    folder = HERE / component.folder
    for directory, prefix in ((folder, ""), (HERE / "common", "common/")):
        for path in sorted(directory.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            name = prefix + path.relative_to(directory).as_posix()
            if prefix == "" and name.startswith("Dockerfile"):
                if name != component.dockerfile:
                    continue
                name = "Dockerfile"
            files.append((name, path))
    if not any(name == "Dockerfile" for name, _ in files):
        raise FileNotFoundError(f"{folder / component.dockerfile} is missing")
    return files


def component_recipe_hash(component: Component, release: str, base: str) -> str:
    parts = [b"component-recipe-1", base.encode(), component.tag(release).encode()]
    for name, path in _context_files(component):
        executable = b"x" if path.stat().st_mode & 0o100 else b"-"
        parts += [name.encode(), executable, path.read_bytes()]
    return _sha256(*parts)


def _build_context(component: Component) -> io.BytesIO:
    """A tar build context: the service's files at the top, the shared files under common/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, path in _context_files(component):
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            # Scripts keep their executable bit; everything is world-readable in the image.
            info.mode = 0o755 if path.stat().st_mode & 0o100 else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


# ---------------------------------------------------------------------------------------------
# Helpers


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds between processes (parallel test sessions on one engine)."""
    with open(LOCK_PATH, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (HARBORCTL_TEST_MIRROR overrides it)."""
    override = os.environ.get("HARBORCTL_TEST_MIRROR")
    if override:
        return override
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        if source.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(
                    (m.group(1).lower(), m.group(2).strip())
                    for m in re.finditer(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M)
                )
                if SUITE in fields.get("suites", "").split() and "deb" in fields.get(
                    "types", ""
                ).split():
                    return fields.get("uris", "").split()[0]
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                    return words[1]
    return DEFAULT_MIRROR


def _image_recipe(client: docker.DockerClient, tag: str) -> str | None:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = image.labels or {}
    return labels.get(RECIPE_LABEL)


def _unmount_below(path: Path) -> None:
    """Undo mounts debootstrap may leave inside a failed target, before deleting it."""
    target = str(path.resolve())
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted(points, key=len, reverse=True):
        if point == target or point.startswith(target + "/"):
            subprocess.run(["umount", "-l", point], check=False)


# ---------------------------------------------------------------------------------------------
# Builds


def ensure_base(client: docker.DockerClient) -> str:
    """Build (unless an image with the same recipe exists) and return the base image's tag."""
    tag = base_tag()
    recipe = base_recipe_hash()
    if _image_recipe(client, tag) == recipe:
        return tag
    for program in ("debootstrap", "tar", "chroot"):
        if shutil.which(program) is None and not Path("/usr/sbin", program).exists():
            raise RuntimeError(f"building the test base image needs {program}, which is missing")
    if os.geteuid() != 0:
        raise RuntimeError("building the test base image needs root (debootstrap)")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="harborctl-test-base-"))
    rootfs = workdir / "rootfs"
    try:
        env = dict(
            os.environ,
            HARBORCTL_TEST_SUITE=SUITE,
            HARBORCTL_TEST_MIRROR=debian_mirror(),
            HARBORCTL_TEST_PACKAGES=",".join(BASE_PACKAGES),
            DEBIAN_FRONTEND="noninteractive",
        )
        _log(f"building {tag} with debootstrap from {env['HARBORCTL_TEST_MIRROR']} (about 1-2 min)")
        log_path = workdir / "mkrootfs.log"
        with open(log_path, "wb") as log:
            result = subprocess.run(
                ["bash", str(HERE / "base" / "mkrootfs.sh"), str(rootfs)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            raise RuntimeError(
                f"building the test base root file system failed (exit {result.returncode}):\n"
                + "\n".join(tail)
            )
        archive = workdir / "rootfs.tar"
        subprocess.run(
            ["tar", "--one-file-system", "--numeric-owner", "-C", str(rootfs), "-cf",
             str(archive), "."],
            check=True,
        )
        repository, _, version = tag.partition(":")
        changes = [*BASE_CHANGES, f"LABEL {TEST_LABEL}=1", f"LABEL {RECIPE_LABEL}={recipe}"]
        client.api.import_image(src=str(archive), repository=repository, tag=version,
                                changes=changes)
    finally:
        _unmount_below(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    if _image_recipe(client, tag) != recipe:
        raise RuntimeError(f"importing {tag} did not produce the expected image")
    _log(f"built {tag} in {time.monotonic() - started:.0f} s")
    return tag


def _remove_stale_bases(client: docker.DockerClient, keep: str) -> None:
    """Drop base images of older recipes once nothing is built on them any more."""
    for image in client.images.list(name=BASE_REPOSITORY):
        if keep in image.tags:
            continue
        for tag in image.tags:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(tag)
                _log(f"removed the stale base image {tag}")


def ensure_component(
    client: docker.DockerClient, component: Component, release: str, base: str
) -> str:
    """Build one component image unless an image with its recipe exists; return its tag."""
    tag = component.tag(release)
    recipe = component_recipe_hash(component, release, base)
    if _image_recipe(client, tag) == recipe:
        return tag
    try:
        old_id: str | None = client.images.get(tag).id
    except docker.errors.ImageNotFound:
        old_id = None
    started = time.monotonic()
    try:
        client.images.build(
            fileobj=_build_context(component),
            custom_context=True,
            tag=tag,
            buildargs={"BASE_IMAGE": base},
            labels={
                TEST_LABEL: "1",
                RECIPE_LABEL: recipe,
                COMPONENT_LABEL: component.service,
            },
            rm=True,
            forcerm=True,
            pull=False,
        )
    except docker.errors.BuildError as exc:
        lines = [str(item.get("stream") or item.get("error") or "") for item in exc.build_log]
        raise RuntimeError(
            f"building {tag} failed: {exc.msg}\n" + "".join(lines)[-3000:]
        ) from exc
    if old_id is not None:
        # The previous build of this tag is now untagged: remove it unless something uses it.
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(old_id)
    _log(f"built {tag} in {time.monotonic() - started:.1f} s")
    return tag


def ensure_images(
    client: docker.DockerClient | None = None, release: str = "v1.7.5"
) -> list[str]:
    """Make sure every test image exists with its current recipe; return the component tags."""
    own_client = client is None
    if client is None:
        client = docker.from_env(timeout=300)
    try:
        with _build_lock():
            base = ensure_base(client)
            tags = [ensure_component(client, c, release, base)
                    for c in components_of(release)]
            _remove_stale_bases(client, keep=base)
            return tags
    finally:
        if own_client:
            client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.images.build",
        description="Build harborctl's test images (Harbor stand-ins) on the local Docker engine.",
    )
    parser.add_argument("--release", default="v1.7.5",
                        help=f"Harbor release in the tags (v2.x: the 2.15 look-alikes, "
                             f"{V2_RELEASE})")
    parser.add_argument(
        "--bundle", metavar="DIR", type=Path,
        help="also write the offline bundle harbor.RELEASE.tar.gz into DIR",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    client = docker.from_env(timeout=300)
    try:
        tags = ensure_images(client, args.release)
        for tag in tags:
            print(tag)
        if args.bundle:
            from tests.images.bundle import make_bundle

            args.bundle.mkdir(parents=True, exist_ok=True)
            print(make_bundle(client, tags, args.bundle, release=args.release))
    except RuntimeError as exc:
        print(f"test-images: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    _log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
