"""Reading the compose subset: a representative file, and every kind of refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import (
    BindMount,
    Dependency,
    NetworkAttachment,
    PortMapping,
    dependency_levels,
)
from harborctl.errors import ConfigError

REPRESENTATIVE = """\
version: '2.3'
services:
  log:
    image: goharbor/harbor-log:v1.7.5
    container_name: harbor-log
    restart: always
    dns_search: .
    cap_drop: [ALL]
    cap_add: [CHOWN, DAC_OVERRIDE, SETGID, SETUID]
    volumes:
      - /var/log/harbor/:/var/log/docker/:z
      - ./common/config/log/:/etc/logrotate.d/:z
    ports:
      - "127.0.0.1:1514:10514"
    healthcheck:
      test: netstat -ltu | grep 10514
      interval: 500ms
      timeout: 1m30s
      retries: 3
      start_period: 2s
    networks:
      - harbor
  registry:
    image: goharbor/registry-photon:v2.6.2-v1.7.5
    container_name: registry
    restart: "on-failure:3"
    command: ["serve", "/etc/registry/config.yml"]
    environment:
      - GODEBUG=netdns=cgo
      - FROM_HOST
    env_file: ./common/config/registry/env
    volumes:
      - ./common/config/registry/:/etc/registry/:ro,z
    networks:
      harbor:
        aliases: [docker-registry]
    depends_on:
      log:
        condition: service_healthy
    logging:
      driver: syslog
      options:
        syslog-address: "tcp://127.0.0.1:1514"
        tag: registry
    user: "10000"
    init: true
    stop_grace_period: 1m
  proxy:
    image: goharbor/nginx-photon:v1.7.5
    container_name: nginx
    entrypoint: /bin/sh -c 'exec nginx -g "daemon off;"'
    environment:
      PORT: 80
      EMPTY:
    ports:
      - "80:80"
      - "4443:4443/udp"
    depends_on:
      - registry
      - log
networks:
  harbor:
    external: false
"""


def write(tmp_path: Path, text: str, folder: str = "harbor") -> Path:
    path = tmp_path / folder / "docker-compose.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_representative_file(tmp_path: Path) -> None:
    path = write(tmp_path, REPRESENTATIVE)
    project = load_compose(path, environ={})
    base = path.parent
    assert project.name == "harbor"
    assert project.working_dir == base
    assert project.service_names == ("log", "registry", "proxy")
    log = project.service("log")
    assert log.container_name == "harbor-log"
    assert log.restart == "always"
    assert log.dns_search == (".",)
    assert log.cap_drop == ("ALL",)
    assert log.volumes == (
        BindMount(Path("/var/log/harbor"), "/var/log/docker/", ("z",)),
        BindMount(base / "common/config/log", "/etc/logrotate.d/", ("z",)),
    )
    assert log.ports == (PortMapping(1514, 10514, "127.0.0.1"),)
    assert log.healthcheck is not None
    assert log.healthcheck.test == ("CMD-SHELL", "netstat -ltu | grep 10514")
    assert log.healthcheck.interval_ns == 500_000_000
    assert log.healthcheck.timeout_ns == 90_000_000_000
    assert log.healthcheck.retries == 3
    assert log.healthcheck.start_period_ns == 2_000_000_000
    assert log.networks == (NetworkAttachment("harbor"),)

    registry = project.service("registry")
    assert registry.restart == "on-failure:3"
    assert registry.command == ("serve", "/etc/registry/config.yml")
    assert registry.environment == (("GODEBUG", "netdns=cgo"), ("FROM_HOST", None))
    assert registry.env_files == (base / "common/config/registry/env",)
    assert registry.volumes[0].options == ("ro", "z")
    assert registry.volumes[0].read_only
    assert registry.volumes[0].bind_spec() == f"{base}/common/config/registry:/etc/registry/:ro,z"
    assert registry.networks == (NetworkAttachment("harbor", ("docker-registry",)),)
    assert registry.depends_on == (Dependency("log", "service_healthy"),)
    assert registry.logging is not None
    assert registry.logging.driver == "syslog"
    assert dict(registry.logging.options) == {
        "syslog-address": "tcp://127.0.0.1:1514", "tag": "registry"}
    assert registry.user == "10000"
    assert registry.init is True
    assert registry.stop_timeout_s == 60

    proxy = project.service("proxy")
    assert proxy.entrypoint == ("/bin/sh", "-c", 'exec nginx -g "daemon off;"')
    assert proxy.environment == (("PORT", "80"), ("EMPTY", None))
    assert proxy.ports == (PortMapping(80, 80), PortMapping(4443, 4443, "", "udp"))
    assert proxy.depends_on == (Dependency("registry"), Dependency("log"))
    assert proxy.networks == (NetworkAttachment("default"),)
    assert [n.name for n in project.networks] == ["harbor", "default"]
    assert project.network_name("harbor") == "harbor_harbor"
    assert dependency_levels(project.services) == (("log",), ("registry",), ("proxy",))


def test_project_name_is_derived_and_overridable(tmp_path: Path) -> None:
    path = write(tmp_path, REPRESENTATIVE, folder="My Harbor.v1")
    assert load_compose(path, environ={}).name == "myharborv1"
    assert load_compose(path, project_name="Other_One", environ={}).name == "other_one"


def test_interpolation(tmp_path: Path) -> None:
    text = REPRESENTATIVE.replace("GODEBUG=netdns=cgo", "GODEBUG=$${NOT} ${MODE:-cgo} $TAG")
    project = load_compose(write(tmp_path, text), environ={"TAG": "x"})
    assert project.service("registry").environment[0] == ("GODEBUG", "${NOT} cgo x")


def test_unsupported_key_names_file_service_and_key(tmp_path: Path) -> None:
    text = REPRESENTATIVE.replace("    image: goharbor/ng", "    build: .\n    image: goharbor/ng")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_compose(path, environ={})
    assert str(path) in caught.value.message
    assert "harborctl does not support `build` in service proxy" in caught.value.message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("version: '2.3'", "version: '3.8'", "compose file format 2.x"),
        ("- \"80:80\"", "- 22:22", "quoted"),
        ("./common/config/log/:", "logs:", "named volume 'logs'"),
        ("condition: service_healthy", "condition: service_completed_successfully", "condition"),
        ("- registry\n", "- nosuch\n", "depends on nosuch, which is not defined"),
        ("interval: 500ms", "interval: soon", "'soon' is not a duration"),
        ("restart: always", "restart: sometimes", "unknown restart policy"),
        ("external: false", "external: true", "external: true"),
        ("networks:\n      - harbor\n  registry", "networks:\n      - other\n  registry",
         "uses network other, which is not declared"),
        ("      - /var/log", "      - /var/log/harbor/:/x:z\n      - /var/log", None),
        ("GODEBUG=netdns=cgo", "A=$", "lone $"),
    ],
)
def test_refusals(tmp_path: Path, old: str, new: str, expected: str | None) -> None:
    assert old in REPRESENTATIVE
    path = write(tmp_path, REPRESENTATIVE.replace(old, new, 1))
    if expected is None:
        load_compose(path, environ={})
        return
    with pytest.raises(ConfigError) as caught:
        load_compose(path, environ={})
    assert expected in caught.value.message + " ".join(caught.value.problems)


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = REPRESENTATIVE.replace("    container_name: nginx", "    build: .\n    links: [x]")
    text = text.replace("interval: 500ms", "interval: soon")
    with pytest.raises(ConfigError) as caught:
        load_compose(write(tmp_path, text), environ={})
    problems = caught.value.problems
    assert len(problems) == 3
    assert caught.value.message.startswith("3 problems in ")
    assert any("`links` in service proxy" in p for p in problems)


def test_dependency_cycle(tmp_path: Path) -> None:
    text = REPRESENTATIVE.replace("  log:\n    image", "  log:\n    depends_on: [proxy]\n    image")
    with pytest.raises(ConfigError) as caught:
        load_compose(write(tmp_path, text), environ={})
    assert "dependency cycle: log -> proxy -> registry -> log" in caught.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read compose file"):
        load_compose(tmp_path / "docker-compose.yml")


def _with_cpu_quota(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "docker-compose.yml"
    path.write_text(f"version: '2.3'\nservices:\n  clair:\n    image: x\n    cpu_quota: {value}\n")
    return path


def test_cpu_quota_is_read_and_reaches_the_container_spec(tmp_path: Path) -> None:
    from harborctl.engine.compose.labels import canonical_json, config_hash
    from harborctl.engine.converge.containers import container_spec

    project = load_compose(_with_cpu_quota(tmp_path, "50000"), project_name="p")
    (service,) = project.services
    assert service.cpu_quota == 50000
    assert container_spec(project, service, config_hash(service)).cpu_quota == 50000
    assert '"cpu_quota":50000' in canonical_json(service)


def test_an_unset_cpu_quota_leaves_the_config_hash_as_before(tmp_path: Path) -> None:
    from harborctl.engine.compose.labels import canonical_json

    path = tmp_path / "docker-compose.yml"
    path.write_text("version: '2.3'\nservices:\n  log:\n    image: x\n")
    (service,) = load_compose(path, project_name="p").services
    # the hash of every existing container was computed without this key: it must not appear
    assert "cpu_quota" not in canonical_json(service)


@pytest.mark.parametrize("value", ["half", "999", "true", "-5", "1.5"])
def test_a_bad_cpu_quota_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_compose(_with_cpu_quota(tmp_path, value), project_name="p")
    assert any("cpu_quota" in problem for problem in caught.value.problems)
