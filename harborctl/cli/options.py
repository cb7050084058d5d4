"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("harbor.cfg"),
        show_default=True,
        help="The harbor.cfg to read.",
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
