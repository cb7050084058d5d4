"""The import-free JSON of the socket client, and the services remembered for a quick status."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from harborctl.cli.quick_status import parse_status_args
from harborctl.engine.api.jsonwire import filters_query, loads
from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.service_list import (
    CACHE_NAME,
    read_service_list,
    service_list_text,
)

DOCUMENTS = [
    '[{"Id": "abc", "Names": ["/nginx"], "Ports": [{"PublicPort": 80, "IP": "::"}],'
    ' "Labels": {"a": "b=c"}, "Created": 1700000000, "SizeRw": 1.5e3, "Mounts": []}]',
    '{"unicode": "caf\\u00e9 \\ud83d\\ude00 \\"quoted\\" back\\\\slash\\n", "n": -0.25}',
    '  {"t": true, "f": false, "z": null, "big": 12345678901234567890}\n',
    "[]",
    '"just a string"',
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_matches_the_json_module(document: str) -> None:
    assert loads(document.encode()) == json.loads(document)


@pytest.mark.parametrize("document", ['{"a": ', "", "[1, 2", '{"a": 1} extra', "nul"])
def test_loads_refuses_what_is_not_json(document: str) -> None:
    with pytest.raises(ValueError):
        loads(document.encode())


@pytest.mark.parametrize("filters", [
    {"label": ["com.docker.compose.project=harbor"]},
    {"label": ['odd "name" \\ with=signs&and?', "x=\u00e9\t"], "status": ["running"]},
])
def test_filters_query_is_percent_encoded_json(filters: dict[str, list[str]]) -> None:
    query = filters_query(filters)
    assert all(c.isalnum() or c in "-_.~%" for c in query)
    assert json.loads(unquote(query)) == filters


COMPOSE = """\
version: '2.3'
services:
  log: {image: "goharbor/harbor-log:v1.7.5", container_name: harbor-log}
  core: {image: "goharbor/harbor-core:v1.7.5", depends_on: [log]}
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "My Harbor"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(COMPOSE)
    return folder


def remember(folder: Path, name: str | None = None) -> None:
    compose = (folder / "docker-compose.yml").read_bytes()
    text = service_list_text(load_compose(folder / "docker-compose.yml", name, environ={}),
                             compose, str(folder), name)
    assert text is not None
    (folder / CACHE_NAME).write_text(text)


def test_remembered_services_read_back(project_dir: Path) -> None:
    remember(project_dir)
    services = read_service_list(str(project_dir), None)
    assert services is not None
    assert services.name == "myharbor"
    assert [(s.name, services.container_name(s), s.image) for s in services.services] == [
        ("log", "harbor-log", "goharbor/harbor-log:v1.7.5"),
        ("core", "myharbor_core_1", "goharbor/harbor-core:v1.7.5")]
    remember(project_dir, "other")
    named = read_service_list(str(project_dir), "other")
    assert named is not None and named.name == "other"
    assert named.container_name(named.services[1]) == "other_core_1"


def test_remembered_services_are_not_trusted_once_anything_differs(project_dir: Path) -> None:
    remember(project_dir)
    assert read_service_list(str(project_dir), "harbor") is None  # another -p
    assert read_service_list(str(project_dir.parent), None) is None  # another folder
    compose = project_dir / "docker-compose.yml"
    compose.write_text(COMPOSE.replace("v1.7.5", "v1.7.6", 1))  # same length, other bytes
    assert read_service_list(str(project_dir), None) is None
    compose.write_text(COMPOSE)
    assert read_service_list(str(project_dir), None) is not None
    cache = project_dir / CACHE_NAME
    cache.write_text(cache.read_text().replace("service\tcore\t", "service\tcore\t\t"))
    assert read_service_list(str(project_dir), None) is None  # damaged
    cache.unlink()
    assert read_service_list(str(project_dir), None) is None


def test_compose_files_with_variables_are_not_remembered(project_dir: Path) -> None:
    compose = project_dir / "docker-compose.yml"
    compose.write_text(COMPOSE.replace("v1.7.5", "${TAG:-v1.7.5}"))
    project = load_compose(compose, environ={})
    assert service_list_text(project, compose.read_bytes(), str(project_dir), None) is None


@pytest.mark.parametrize(("args", "parsed"), [
    ([], {}),
    (["--json"], {"json": "1"}),
    (["-c", "/x/harbor.cfg", "--project-dir", "/y", "-p", "h"],
     {"config": "/x/harbor.cfg", "project_dir": "/y", "project_name": "h"}),
    (["--config=/x/harbor.cfg", "--project-name=h", "--json"],
     {"config": "/x/harbor.cfg", "project_name": "h", "json": "1"}),
    (["--help"], None), (["-c"], None), (["--jsn"], None), (["-cfile"], None),
    (["-p=h"], None), (["extra"], None),
])
def test_plain_status_arguments_or_none(args: list[str], parsed: dict[str, str] | None) -> None:
    assert parse_status_args(args) == parsed
