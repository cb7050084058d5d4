"""Containers whose network was removed by hand (`docker network rm` once they had stopped):
the engine refuses to start them again ("network ... not found") even after a network of the
same name is made anew, since a container keeps the ID of the network it joined. install
removes them so that converge creates them afresh; their data lives in bind mounts."""

from __future__ import annotations

from collections.abc import Callable

from harborctl.engine.api.interface import Engine
from harborctl.engine.compose.model import ContainerInfo
from harborctl.engine.converge.containers import remove_container
from harborctl.errors import EngineNotFoundError

Report = Callable[[str], None]


def without_vanished_networks(engine: Engine, existing: list[ContainerInfo], report: Report
                              ) -> list[ContainerInfo]:
    """``existing`` less the stopped containers attached to a network that no longer exists,
    which are removed. Running ones cannot lose their network (the engine refuses): with every
    container running, no call is made."""
    stopped = [c for c in existing if not c.running]
    if not stopped:
        return existing
    live = {n.id for n in engine.list_networks()}
    removed: set[str] = set()
    for container in stopped:
        try:
            joined = engine.inspect_container(container.id).network_ids
        except EngineNotFoundError:
            continue
        if any(network not in live for network in joined if network):
            remove_container(engine, container.service, container.id)
            report(f"  removed {container.name}: its network was removed by hand; "
                   "it is created again")
            removed.add(container.id)
    return [c for c in existing if c.id not in removed]
