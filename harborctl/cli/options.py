"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def default_config(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    """-c's default: ./harbor.cfg, or ./harbor.yml when only that one exists (a Harbor 2.x
    operator's folder); the file's format then selects the release profile."""
    if value is not None:
        return value
    if not Path("harbor.cfg").exists() and Path("harbor.yml").exists():
        return Path("harbor.yml")
    return Path("harbor.cfg")


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        callback=default_config,
        show_default="harbor.cfg, else harbor.yml",
        help="The harbor.cfg (Harbor 1.7.5) or harbor.yml (Harbor 2.15) to read.",
    )(func)


def project_dir_option(func: F) -> F:
    return click.option(
        "--project-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Where docker-compose.yml and common/config/ go [default: the config's folder].",
    )(func)


def component_options(func: F) -> F:
    for name in ("chartmuseum", "clair", "notary"):
        func = click.option(
            f"--with-{name}", f"with_{name}", is_flag=True, default=False,
            help=f"Enable {name} (remembered for later runs).",
        )(func)
    return func


def project_dir(config_path: Path, explicit: Path | None) -> Path:
    return (explicit or config_path.parent).absolute()


def new_secretkey_option(func: F) -> F:
    return click.option(
        "--new-secretkey", is_flag=True, default=False,
        help="Create a new secretkey when it is missing on a deployment that used one: every "
             "credential Harbor stored encrypted (LDAP, e-mail, replication passwords) is lost.",
    )(func)
