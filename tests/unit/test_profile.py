"""The release profile is the only source of the service set: the rendered docker-compose.yml must
say exactly what the profile says, for every combination of components, database, redis and
protocol, and must follow the profile when the profile changes."""

from __future__ import annotations

import dataclasses
import functools
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from harborctl.config import parse_text, validate
from harborctl.config.keys import SUPPORTED_RELEASES
from harborctl.config.model import Config
from harborctl.plan import host_ports, plan_deployment, services_of
from harborctl.plan.harbor_1_7 import HARBOR_1_7
from harborctl.plan.images import all_images, image_for
from harborctl.plan.profile import HealthCheck, HostPort, ReleaseProfile, Service
from harborctl.plan.releases import PROFILES, profile_of
from harborctl.render import templates_dir
from tests import yaml_load as yaml
from tests.unit.prepare_support import FIXED_SECRETS

PROJECT = Path("/srv/harbor")
BASE = ("hostname = harbor.example.com\nharbor_admin_password = Adm1n-pass\n"
        "db_password = db-pass-1\nhttp_port = 8080\nhttps_port = 8443\n")
_OPTIONS = {
    "https": "ui_url_protocol = https\n",
    "notary": "with_notary = on\n",
    "clair": "with_clair = on\n",
    "chartmuseum": "with_chartmuseum = on\n",
    "external-db": "db_host = db.example.com\n",
    "external-redis": "redis_host = cache.example.com\n",
}


def _cases() -> list[str]:
    cases = []
    for chosen in product((False, True), repeat=len(_OPTIONS)):
        names = [name for name, on in zip(_OPTIONS, chosen) if on]
        if "notary" in names and "https" not in names:
            continue  # refused by validation
        cases.append("+".join(names) or "plain-http")
    return cases


def _config(case: str) -> Config:
    text = BASE + "".join(_OPTIONS[name] for name in case.split("+") if name in _OPTIONS)
    result = validate(parse_text(text, Path("harbor.cfg")), file_exists=lambda _: True)
    assert result.config is not None, result.problems
    return result.config


def _compose(config: Config, profile: ReleaseProfile = HARBOR_1_7) -> dict[str, Any]:
    deployment = plan_deployment(config, FIXED_SECRETS, PROJECT, (b"CERT\n", b"KEY\n"), profile)
    compose = next(f for f in deployment.files if f.path == PROJECT / "docker-compose.yml")
    parsed: dict[str, Any] = yaml.safe_load(compose.content)
    return parsed


@functools.cache
def _compose_of_case(case: str) -> dict[str, Any]:
    """The compose file of one option combination, planned once for the tests that read it."""
    return _compose(_config(case))


def _expected_entry(profile: ReleaseProfile, service: Service, config: Config) -> dict[str, Any]:
    """The compose entry of ``service``, written from the profile record alone."""
    deployed = {s.name for s in profile.enabled(config)}
    entry: dict[str, Any] = {
        "image": profile.image(service.name, config.images.source),
        "container_name": service.container_name,
        "restart": "always",
        "cap_drop": ["ALL"],
        "cap_add": list(service.caps),
        "dns_search": ".",
    }
    if service.cpu_quota:
        entry["cpu_quota"] = service.cpu_quota
    if service.syslog:
        entry["logging"] = {"driver": "syslog", "options": {
            "syslog-address": f"tcp://127.0.0.1:{profile.log_port}", "tag": service.name}}
    if service.env_file:
        entry["env_file"] = [f"./common/config/{service.env_file}"]
    volumes = [_volume_text(v.source, v.target, v.options, config)
               for v in service.volumes if v.when(config)]
    if volumes:
        entry["volumes"] = volumes
    joined = [n for n in service.networks if n.when(config)]
    if any(n.aliases for n in service.networks):
        entry["networks"] = {n.network: ({"aliases": list(n.aliases)} if n.aliases else None)
                             for n in joined}
    else:
        entry["networks"] = [n.network for n in joined]
    ports = [_port_text(p, config) for p in service.ports if p.when(config)]
    if ports:
        entry["ports"] = ports
    if service.health is not None:
        entry["healthcheck"] = {"test": list(service.health.test),
                                "interval": service.health.interval,
                                "timeout": service.health.timeout,
                                "retries": service.health.retries}
    # A hard edge waits until the dependency is healthy (where it has a check); a soft one
    # until it is started.
    depends = {d.service: {"condition": "service_healthy"
                           if d.hard and profile.service(d.service).health else "service_started"}
               for d in service.depends_on if d.service in deployed and d.when(config)}
    if depends:
        entry["depends_on"] = depends
    unawaited = [d.service for d in service.depends_on
                 if d.service in deployed and d.when(config) and not d.awaited]
    if unawaited:
        entry["x-harborctl-start-without"] = unawaited
    return entry


def _volume_text(source: str, target: str, options: str, config: Config) -> str:
    paths = {"data": str(config.paths.data_volume).rstrip("/"),
             "log_location": str(config.logs.location).rstrip("/"),
             "secretkey": str(config.paths.secretkey_path / "secretkey")}
    return ":".join(p for p in (source.format(**paths), target, options) if p)


def _port_text(port: HostPort, config: Config) -> str:
    text = f"{port.host_port(config)}:{port.container}"
    return f"{port.bind}:{text}" if port.bind else text


@pytest.mark.parametrize("case", _cases())
def test_compose_file_says_what_the_profile_says(case: str) -> None:
    config = _config(case)
    profile = profile_of(config)
    compose = _compose_of_case(case)

    enabled = profile.enabled(config)
    assert list(compose["services"]) == [s.name for s in enabled] == list(services_of(config))
    for service in enabled:
        # The healthcheck test is written with '$' doubled for compose; none of 1.7.5's has one.
        assert compose["services"][service.name] == _expected_entry(profile, service, config)

    joined = {n for entry in compose["services"].values() for n in entry["networks"]}
    assert list(compose["networks"]) == [n for n in profile.networks if n in joined]
    assert all(network == {"driver": "bridge"} for network in compose["networks"].values())

    published = {int(p.split(":")[-2]) for entry in compose["services"].values()
                 for p in entry.get("ports", [])}
    assert host_ports(config) == tuple(sorted(published))


@pytest.mark.parametrize("case", _cases())
def test_no_syslog_service_can_start_before_the_log_service_listens(case: str) -> None:
    """The syslog race: a service logging to the log service must wait until it is ready —
    by a hard (service_healthy) edge to it, or by starting after a service that did."""
    services = _compose_of_case(case)["services"]

    def safe(name: str, seen: frozenset[str] = frozenset()) -> bool:
        depends = services[name].get("depends_on", {})
        if depends.get("log") == {"condition": "service_healthy"}:
            return True
        # harborctl does not wait for an edge it starts without: no safety passes through it
        awaited = set(depends) - set(services[name].get("x-harborctl-start-without", []))
        return any(dep not in seen and dep != "log" and safe(dep, seen | {name})
                   for dep in awaited)

    syslog = [name for name, entry in services.items()
              if entry.get("logging", {}).get("driver") == "syslog"]
    assert syslog and not [name for name in syslog if not safe(name)]


def test_every_edge_says_why_it_is_hard_or_soft() -> None:
    for profile in PROFILES:
        for service in profile.services:
            for dep in service.depends_on:
                assert len(dep.why) > 10, (profile.release, service.name, dep.service)
                if dep.service == "log" and service.syslog:
                    assert dep.hard, (profile.release, service.name)


def test_the_facts_of_the_compose_file_move_with_the_profile() -> None:
    """No service fact is spelt out in the template: change the profile, the file follows."""
    config = _config("https+clair")
    registry = HARBOR_1_7.service("registry")
    jobservice = HARBOR_1_7.service("jobservice")
    changed = dataclasses.replace(HARBOR_1_7, log_port=1600, services=tuple(
        dataclasses.replace(registry, health=None, container_name="the-registry",
                            ports=(HostPort(5001, 5000, bind="127.0.0.1"),))
        if s is registry else
        dataclasses.replace(jobservice, health=HealthCheck(("CMD", "true"), retries=3),
                            cpu_quota=25000)
        if s is jobservice else s
        for s in HARBOR_1_7.services if s.name != "portal"))
    compose = _compose(config, changed)
    services = compose["services"]
    assert "portal" not in services and "portal" not in services["proxy"]["depends_on"]
    assert "healthcheck" not in services["registry"]
    assert services["registry"]["container_name"] == "the-registry"
    assert services["registry"]["ports"] == ["127.0.0.1:5001:5000"]
    assert services["core"]["depends_on"]["registry"] == {"condition": "service_started"}
    assert services["jobservice"]["healthcheck"]["retries"] == 3
    assert services["jobservice"]["cpu_quota"] == 25000
    assert "cpu_quota" not in services["core"]
    assert services["core"]["logging"]["options"]["syslog-address"] == "tcp://127.0.0.1:1600"
    for name in services:
        assert services[name] == _expected_entry(changed, changed.service(name), config)


def test_images_come_from_the_profile() -> None:
    config = _config("plain-http")
    images = all_images(config.images)
    assert list(images) == [s.name for s in HARBOR_1_7.services]
    assert images["registry"] == "goharbor/registry-photon:v2.6.2-v1.7.5"
    for service in HARBOR_1_7.services:
        assert image_for(service.name, config.images) == images[service.name]


def test_host_ports_follow_the_components() -> None:
    assert host_ports(_config("plain-http")) == (1514, 8080)
    assert host_ports(_config("https")) == (1514, 8080, 8443)
    assert host_ports(_config("https+notary")) == (1514, 4443, 8080, 8443)


def test_every_file_the_services_name_is_planned_or_made() -> None:
    """Templates exist; env files and the common/config sources of volumes are planned files
    or folders (a typo in the table would mount a path nothing writes)."""
    templates = templates_dir()
    for planned in HARBOR_1_7.files:
        assert (templates / planned.template).is_file(), planned.template
    config = _config("https+notary+clair+chartmuseum")
    deployment = plan_deployment(config, FIXED_SECRETS, PROJECT, (b"CERT\n", b"KEY\n"))
    made = {p.path for p in deployment.files} | {d.path for d in deployment.dirs}
    made |= {parent for path in set(made) for parent in path.parents}
    for service in HARBOR_1_7.enabled(config):
        if service.env_file:
            assert deployment.generated_root / service.env_file in made, service.env_file
        for volume in service.volumes:
            if volume.source.startswith("./") and volume.when(config):
                assert PROJECT / volume.source in made, (service.name, volume.source)


def test_profile_names_are_consistent() -> None:
    names = [s.name for s in HARBOR_1_7.services]
    assert len(names) == len(set(names))
    for service in HARBOR_1_7.services:
        assert {d.service for d in service.depends_on} <= set(names), service.name
        assert {n.network for n in service.networks} <= set(HARBOR_1_7.networks), service.name
    assert {f.service for f in HARBOR_1_7.files} <= set(names)
    assert {d.service for d in HARBOR_1_7.dirs} <= set(names)


def test_every_supported_release_has_a_profile() -> None:
    # harbor.cfg names its release; harbor.yml selects the 2.15 profile by its format
    assert sorted(p.release for p in PROFILES) == sorted((*SUPPORTED_RELEASES, "2.15.2"))
