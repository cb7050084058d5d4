"""How results are shown to the operator."""

from __future__ import annotations

import click

from harborctl.prepare import PrepareResult, components_summary


def print_prepare(result: PrepareResult) -> None:
    deployment = result.deployment
    for name, why in sorted(result.enabled_by.items()):
        click.echo(f"component {name}: on ({why})")
    if result.dry_run:
        if result.diff:
            click.echo(result.diff, nl=False)
        verb = "would change"
    else:
        verb = "changed"
    for secret in result.created_secrets:
        click.echo(f"created secret: {secret}")
    if result.changes:
        click.echo(f"{len(result.changes)} file(s) {verb}:")
        for change in result.changes:
            click.echo(f"  {change.kind:6} {_relative(change.path, deployment.project_dir)}")
    else:
        click.echo("nothing changed: the deployment already matches harbor.cfg")
    click.echo(f"services: {', '.join(deployment.services)}")
    click.echo(f"optional components: {components_summary(deployment.components)}")
    for warning in result.warnings:
        click.echo(warning, err=True)


def _relative(path: object, root: object) -> str:
    text, base = str(path), str(root).rstrip("/") + "/"
    return text[len(base):] if text.startswith(base) else text
