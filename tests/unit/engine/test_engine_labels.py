"""The harborctl hash notices changed mounted config files and env files; compose labels."""

from __future__ import annotations

import os
from pathlib import Path

from harborctl.engine.compose import labels as lbl
from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ComposeProject

COMPOSE = """\
version: '2.1'
services:
  proxy:
    image: nginx:test
    container_name: nginx
    volumes:
      - ./common/config/nginx:/etc/nginx:z
      - ./data/www:/var/www:z
  core:
    image: core:test
    env_file: ./common/config/core/env
    volumes:
      - ./common/config/core/app.conf:/etc/core/app.conf:ro
"""


def make_project(tmp_path: Path) -> ComposeProject:
    base = tmp_path / "harbor"
    (base / "common/config/nginx/conf.d").mkdir(parents=True)
    (base / "common/config/nginx/nginx.conf").write_text("events {}\n")
    (base / "common/config/nginx/conf.d/a.conf").write_text("# a\n")
    (base / "common/config/core").mkdir(parents=True)
    (base / "common/config/core/env").write_text("A=1\n")
    (base / "common/config/core/app.conf").write_text("x=1\n")
    (base / "data/www").mkdir(parents=True)
    (base / "docker-compose.yml").write_text(COMPOSE)
    return load_compose(base / "docker-compose.yml", environ={})


def hashes(project: ComposeProject) -> dict[str, str]:
    digests = lbl.file_digests(project)
    return {s.name: lbl.harborctl_hash(project, s, f"sha256:{s.name}", digests)
            for s in project.services}


def test_watched_paths(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    base = project.working_dir
    assert lbl.watched_paths(project, project.service("proxy")) == (
        base / "common/config/nginx",)
    assert lbl.watched_paths(project, project.service("core")) == (
        base / "common/config/core/app.conf", base / "common/config/core/env")


def test_hash_follows_mounted_files_only(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    base = project.working_dir
    first = hashes(project)
    assert hashes(project) == first

    (base / "data/www/index.html").write_text("data is not config\n")
    assert hashes(project) == first

    (base / "common/config/nginx/conf.d/a.conf").write_text("# changed\n")
    second = hashes(project)
    assert second["proxy"] != first["proxy"]
    assert second["core"] == first["core"]

    (base / "common/config/nginx/conf.d/b.conf").write_text("# new file\n")
    third = hashes(project)
    assert third["proxy"] != second["proxy"]

    (base / "common/config/core/env").write_text("A=2\n")
    fourth = hashes(project)
    assert fourth["core"] != third["core"]
    assert fourth["proxy"] == third["proxy"]

    os.chmod(base / "common/config/core/app.conf", 0o600)
    assert hashes(project)["core"] != fourth["core"]


def test_hash_follows_image_and_definition(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    digests = lbl.file_digests(project)
    core = project.service("core")
    base_hash = lbl.harborctl_hash(project, core, "sha256:1", digests)
    assert lbl.harborctl_hash(project, core, "sha256:2", digests) != base_hash
    changed = load_compose(
        project.working_dir / "docker-compose.yml", environ={}
    )
    assert lbl.harborctl_hash(changed, changed.service("core"), "sha256:1", digests) == base_hash
    (project.working_dir / "docker-compose.yml").write_text(
        COMPOSE.replace("core:test", "core:other"))
    edited = load_compose(project.working_dir / "docker-compose.yml", environ={})
    assert lbl.config_hash(edited.service("core")) != lbl.config_hash(core)


def test_missing_path_has_a_digest(tmp_path: Path) -> None:
    assert lbl.path_digest(tmp_path / "nope") == lbl.MISSING


def test_compose_labels(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    proxy = project.service("proxy")
    labels = lbl.container_labels(project, proxy, "abc")
    assert labels["com.docker.compose.project"] == "harbor"
    assert labels["com.docker.compose.service"] == "proxy"
    assert labels["com.docker.compose.oneoff"] == "False"
    assert labels["com.docker.compose.container-number"] == "1"
    assert labels["com.docker.compose.config-hash"] == lbl.config_hash(proxy)
    assert len(labels["com.docker.compose.config-hash"]) == 64
    assert labels["com.docker.compose.version"] == "1.29.2"
    assert labels["com.docker.compose.project.working_dir"] == str(project.working_dir)
    assert labels["com.docker.compose.project.config_files"].endswith("docker-compose.yml")
    assert labels["io.harborctl.managed"] == "true"
    assert labels["io.harborctl.hash"] == "abc"
    assert lbl.network_labels(project, "harbor")["com.docker.compose.network"] == "harbor"
