"""Dependency order of a profile's object mappings, derived from their lookups."""

from __future__ import annotations

import heapq
import itertools
from graphlib import CycleError, TopologicalSorter

from crmsync.errors import ProfileError
from crmsync.model.profile import ObjectMapping, Profile


def step_of(profile: Profile, platform_type: str) -> str:
    """The top-level type whose pull step includes ``platform_type`` (its owner for parts)."""
    mapping = profile.mapping(platform_type)
    return mapping.part_of or mapping.type


def dependencies(profile: Profile) -> dict[str, set[str]]:
    """For each pull step, the steps that must be pulled before it."""
    graph: dict[str, set[str]] = {m.type: set() for m in profile.objects if m.part_of is None}
    for mapping in profile.objects:
        step = step_of(profile, mapping.type)
        for lookup in mapping.lookups:
            for target in lookup.targets:
                parent = step_of(profile, target.type)
                # A lookup inside one step (a part to its owner) is ordered by the step itself.
                if parent != step:
                    graph[step].add(parent)
    return graph


def pull_order(profile: Profile) -> list[str]:
    """Top-level platform types in an order where every parent comes before its children.

    Among types whose parents are all done, the one declared first in the profile goes
    first, so the order is stable and readable; the constraints come only from lookups.
    """
    graph = dependencies(profile)
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle: list[str] = list(exc.args[1])
        raise ProfileError(f"profile {profile.name}: {_describe_cycle(profile, cycle)}") from None
    position = {t: i for i, t in enumerate(profile.types())}
    ready: list[tuple[int, str]] = []
    order: list[str] = []
    while sorter.is_active():
        for node in sorter.get_ready():
            heapq.heappush(ready, (position[node], node))
        _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
    return order


def pull_steps(profile: Profile) -> list[tuple[ObjectMapping, ...]]:
    """Each step of a pull: the owner mapping followed by its parts, in pull order."""
    return [(profile.mapping(t), *profile.parts_of(t)) for t in pull_order(profile)]


def _describe_cycle(profile: Profile, cycle: list[str]) -> str:
    # graphlib reports the cycle as [a, b, ..., a] where each node is a parent of the next.
    hops = []
    for parent, child in itertools.pairwise(cycle):
        fields = [
            f"{m.type}.{lookup.crm}"
            for m in profile.objects
            if step_of(profile, m.type) == child
            for lookup in m.lookups
            if any(step_of(profile, t.type) == parent for t in lookup.targets)
        ]
        hops.append(f"{child} needs {parent} (through {', '.join(fields)})")
    return "lookup cycle: " + "; ".join(hops) + "; remove one of these lookups"
