"""Read the subset of the compose format (2.x) that harborctl's template uses; pure, no Docker.

Every problem in the file is collected and reported at once in one ``ConfigError``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import yaml

from harborctl.engine.compose.model import (
    DEFAULT_NETWORK,
    BindMount,
    ComposeProject,
    Condition,
    Dependency,
    Healthcheck,
    Logging,
    Network,
    NetworkAttachment,
    PortMapping,
    Service,
    dependency_levels,
)
from harborctl.engine.compose.service_list import normalize_project_name
from harborctl.engine.compose.syntax import interpolate, parse_duration
from harborctl.errors import ConfigError

START_WITHOUT = "x-harborctl-start-without"
SERVICE_KEYS = frozenset({
    "image", "container_name", "command", "entrypoint", "environment", "env_file", "volumes",
    "ports", "networks", "depends_on", "healthcheck", "restart", "cap_drop", "cap_add",
    "dns_search", "logging", "user", "init", "stop_grace_period", "labels", "cpu_quota",
    START_WITHOUT,
})
TOP_LEVEL_KEYS = frozenset({"version", "services", "networks"})
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period", "disable"})
NETWORK_KEYS = frozenset({"driver", "external", "labels"})
VOLUME_OPTIONS = frozenset({"ro", "rw", "z", "Z"})
RESTART_POLICIES = frozenset({"no", "always", "unless-stopped", "on-failure"})
CONDITIONS: frozenset[str] = frozenset({"service_started", "service_healthy"})


class _Problems:
    """Collects the problems of one file (one instance per ``load_compose`` call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(f"{self.path}: {message}")


def read_compose(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read compose file {Path(path).absolute()}: {exc.strerror}",
            hint="run the install or prepare step first; it writes docker-compose.yml",
        ) from exc


def load_compose(
    path: Path, project_name: str | None = None, environ: Mapping[str, str] | None = None,
    text: str | None = None,
) -> ComposeProject:
    """Parse ``path`` into a ``ComposeProject``; raise ``ConfigError`` listing every problem.

    ``environ`` feeds ``$VAR`` substitution (default: this process's environment). The project
    name defaults to the folder's name, lowercased and stripped to ``[-_a-z0-9]``. ``text`` is
    the file's content when the caller has read it already.
    """
    path = Path(path).absolute()
    problems = _Problems(path)
    if text is None:
        text = read_compose(path).decode("utf-8")
    try:
        # libyaml's loader when PyYAML has it: about ten times faster on a Harbor compose file
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with `version` and `services` at the top")
    env = os.environ if environ is None else environ
    try:
        document = _interpolate_tree(document, env)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc

    base = path.parent
    name = normalize_project_name(project_name if project_name is not None else base.name)
    if not name:
        name = "default"
    for key in sorted(set(document) - TOP_LEVEL_KEYS):
        problems.add(f"harborctl does not support the top-level key `{key}`")
    version = str(document.get("version", ""))
    if not version.startswith("2"):
        problems.add(f"harborctl reads compose file format 2.x; this file says version {version!r}")

    networks = _parse_networks(document.get("networks"), problems)
    raw_services = document.get("services")
    services: list[Service] = []
    if not isinstance(raw_services, dict) or not raw_services:
        problems.add("no `services` mapping")
    else:
        for svc_name, body in raw_services.items():
            svc = _parse_service(str(svc_name), body, base, problems)
            if svc is not None:
                services.append(svc)
    _check_references(services, networks, problems)
    uses_default = any(n.name == DEFAULT_NETWORK for s in services for n in s.networks)
    if uses_default and DEFAULT_NETWORK not in {n.name for n in networks}:
        networks = (*networks, Network(DEFAULT_NETWORK))
    if problems.items:
        first = problems.items[0] if len(problems.items) == 1 else (
            f"{len(problems.items)} problems in {path}"
        )
        raise ConfigError(first, problems=tuple(problems.items),
                          hint="fix the compose file or render it again from harbor.cfg")
    return ComposeProject(
        name=name,
        working_dir=base,
        config_files=(path,),
        version=version,
        services=tuple(services),
        networks=networks,
    )


def _interpolate_tree(node: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ)
    if isinstance(node, list):
        return [_interpolate_tree(item, environ) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, environ) for key, value in node.items()}
    return node


def _parse_networks(raw: object, problems: _Problems) -> tuple[Network, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.add("top-level `networks` must be a mapping")
        return ()
    result: list[Network] = []
    for name, body in raw.items():
        body = body or {}
        if not isinstance(body, dict):
            problems.add(f"network {name} must be a mapping")
            continue
        for key in sorted(set(body) - NETWORK_KEYS):
            problems.add(f"harborctl does not support `{key}` in network {name}")
        if body.get("external"):
            problems.add(f"harborctl does not support `external: true` in network {name}")
        driver = body.get("driver")
        try:
            labels = _labels(body.get("labels") or {})
        except ValueError as exc:
            problems.add(f"`labels` of network {name}: {exc}")
            labels = ()
        result.append(Network(str(name), str(driver) if driver else None, labels))
    return tuple(result)


def _parse_service(name: str, body: object, base: Path, problems: _Problems) -> Service | None:
    if not isinstance(body, dict):
        problems.add(f"service {name} must be a mapping")
        return None
    where = f"in service {name}"
    for key in sorted(set(body) - SERVICE_KEYS):
        problems.add(f"harborctl does not support `{key}` {where}")
    image = body.get("image")
    if not isinstance(image, str) or not image:
        problems.add(f"service {name} needs an `image`")
        image = ""
    fields: dict[str, Any] = {"name": name, "image": image}
    parsers: dict[str, Callable[[Any], object]] = {
        "container_name": lambda v: _string(v),
        "command": lambda v: _command(v),
        "entrypoint": lambda v: _command(v),
        "environment": lambda v: _environment(v),
        "env_file": lambda v: tuple(base / p for p in _string_list(v)),
        "volumes": lambda v: tuple(_volume(item, base) for item in _list(v)),
        "ports": lambda v: tuple(_port(item) for item in _list(v)),
        "networks": lambda v: _service_networks(v, name),
        "depends_on": lambda v: _depends_on(v),
        "healthcheck": lambda v: _healthcheck(v),
        "restart": lambda v: _restart(v),
        "cap_drop": lambda v: _string_list(v),
        "cap_add": lambda v: _string_list(v),
        "dns_search": lambda v: _string_list(v),
        "logging": lambda v: _logging(v),
        "user": lambda v: _string(v),
        "init": lambda v: _bool(v),
        "stop_grace_period": lambda v: parse_duration(v),
        "labels": lambda v: _labels(v),
        "cpu_quota": lambda v: _cpu_quota(v),
        START_WITHOUT: lambda v: _string_list(v),
    }
    targets = {"env_file": "env_files", "stop_grace_period": "stop_grace_period_ns",
               START_WITHOUT: "start_without"}
    for key, parse in parsers.items():
        if key not in body or body[key] is None:
            continue
        try:
            fields[targets.get(key, key)] = parse(body[key])
        except ValueError as exc:
            problems.add(f"`{key}` {where}: {exc}")
    fields.setdefault("networks", (NetworkAttachment(DEFAULT_NETWORK),))
    return Service(**fields)


def _string(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a string, got {value!r}")
    return str(value)


def _cpu_quota(value: object) -> int:
    # microseconds of CPU per 100 ms period; the engine refuses anything under 1 ms
    if isinstance(value, bool) or not isinstance(value, int) or value < 1000:
        raise ValueError(f"expected a whole number of microseconds, at least 1000, got {value!r}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return cast(list[object], value)


def _string_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(_string(item) for item in _list(value))


def _command(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(shlex.split(value))
    return tuple(_string(item) for item in _list(value))


def _environment(value: object) -> tuple[tuple[str, str | None], ...]:
    pairs: list[tuple[str, str | None]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            pairs.append((str(key), None if item is None else _string(item)))
    else:
        for entry in _list(value):
            key, sep, item = _string(entry).partition("=")
            pairs.append((key, item if sep else None))
    return tuple(pairs)


def _labels(value: object) -> tuple[tuple[str, str], ...]:
    """Extra labels (``key=value`` list or mapping); compose's and harborctl's own win."""
    return tuple((key, value or "") for key, value in _environment(value))


def _volume(item: object, base: Path) -> BindMount:
    if not isinstance(item, str):
        raise ValueError(f"only the short syntax host:container[:mode] is supported, got {item!r}")
    parts = item.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"{item!r} is not host:container[:mode] (anonymous volumes unsupported)")
    host, target = parts[0], parts[1]
    if not host.startswith((".", "/", "~")):
        raise ValueError(f"named volume {host!r} is not supported; use a host path")
    options = tuple(opt for opt in parts[2].split(",") if opt) if len(parts) == 3 else ()
    unknown = [opt for opt in options if opt not in VOLUME_OPTIONS]
    if unknown:
        raise ValueError(f"unsupported volume option {','.join(unknown)} in {item!r}")
    source = Path(os.path.expanduser(host))
    source = Path(os.path.normpath(base / source)) if not source.is_absolute() else source
    return BindMount(source, target, options)


def _port(item: object) -> PortMapping:
    if not isinstance(item, str):
        raise ValueError(f"write the port mapping {item!r} as a quoted \"HOST:CONTAINER\" string")
    spec, _, protocol = item.partition("/")
    parts = spec.rsplit(":", 2)
    if len(parts) == 2:
        host_ip, host, container = "", parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host, container = parts
    else:
        raise ValueError(f"{item!r}: only HOST:CONTAINER and IP:HOST:CONTAINER are supported")
    if not (host.isdigit() and container.isdigit()):
        raise ValueError(f"{item!r}: ports must be numbers (no ranges)")
    if protocol not in ("", "tcp", "udp"):
        raise ValueError(f"{item!r}: unknown protocol {protocol!r}")
    return PortMapping(int(host), int(container), host_ip.strip("[]"), protocol or "tcp")


def _service_networks(value: object, service: str) -> tuple[NetworkAttachment, ...]:
    if isinstance(value, list):
        return tuple(NetworkAttachment(_string(item)) for item in value)
    if not isinstance(value, dict):
        raise ValueError(f"expected a list or a mapping, got {value!r}")
    result = []
    for name, body in value.items():
        body = body or {}
        if not isinstance(body, dict) or set(body) - {"aliases"}:
            raise ValueError(f"network {name} of service {service}: only `aliases` is supported")
        result.append(NetworkAttachment(str(name), _string_list(body.get("aliases") or [])))
    return tuple(result)


def _depends_on(value: object) -> tuple[Dependency, ...]:
    if isinstance(value, list):
        return tuple(Dependency(_string(item)) for item in value)
    if not isinstance(value, dict):
        raise ValueError(f"expected a list or a mapping, got {value!r}")
    result = []
    for name, body in value.items():
        condition = (body or {}).get("condition", "service_started")
        if condition not in CONDITIONS:
            raise ValueError(f"condition {condition!r} of {name} is not supported "
                             f"(use service_started or service_healthy)")
        result.append(Dependency(str(name), cast(Condition, condition)))
    return tuple(result)


def _healthcheck(value: object) -> Healthcheck:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping")
    unknown = sorted(set(value) - HEALTHCHECK_KEYS)
    if unknown:
        raise ValueError(f"unsupported key(s) {', '.join(unknown)}")
    if value.get("disable"):
        return Healthcheck(test=("NONE",))
    test = value.get("test")
    parsed: tuple[str, ...] | None = None
    if isinstance(test, str):
        parsed = ("CMD-SHELL", test)
    elif test is not None:
        parsed = tuple(_string(item) for item in _list(test))
        if not parsed or parsed[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError("`test` must start with CMD, CMD-SHELL or NONE")

    def duration(key: str) -> int | None:
        return None if value.get(key) is None else parse_duration(value[key])

    retries = value.get("retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)):
        raise ValueError(f"`retries` must be a number, got {retries!r}")
    return Healthcheck(parsed, duration("interval"), duration("timeout"), retries,
                       duration("start_period"))


def _restart(value: object) -> str:
    text = "no" if value is False else _string(value)
    name, _, count = text.partition(":")
    if name not in RESTART_POLICIES or (count and (name != "on-failure" or not count.isdigit())):
        raise ValueError(f"unknown restart policy {text!r}")
    return text


def _logging(value: object) -> Logging:
    if not isinstance(value, dict) or set(value) - {"driver", "options"}:
        raise ValueError("expected a mapping with `driver` and `options`")
    options = value.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("`options` must be a mapping")
    driver = _string(value.get("driver") or "json-file")
    return Logging(driver, tuple((str(k), _string(v)) for k, v in options.items()))


def _check_references(
    services: list[Service], networks: tuple[Network, ...], problems: _Problems
) -> None:
    names = {s.name for s in services}
    declared = {n.name for n in networks} | {DEFAULT_NETWORK}
    for svc in services:
        for dep in svc.depends_on:
            if dep.service not in names:
                problems.add(f"service {svc.name} depends on {dep.service}, which is not defined")
        listed = {dep.service for dep in svc.depends_on}
        for name in svc.start_without:
            if name not in listed:
                problems.add(f"`{START_WITHOUT}` of service {svc.name} names {name}, which is "
                             "not in its depends_on")
        for net in svc.networks:
            if net.name not in declared:
                problems.add(f"service {svc.name} uses network {net.name}, which is not declared")
    try:
        dependency_levels(services)
    except ValueError as exc:
        problems.add(str(exc))

