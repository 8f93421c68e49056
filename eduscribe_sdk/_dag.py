"""Pure dependency-graph logic: order a set of new jobs and find cycles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter

from .errors import DependencyCycleError

__all__ = ["find_cycle", "topological_order"]


def topological_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Ids so that every id comes after the ids it depends on (only ids in ``graph`` are ordered).

    Raises :class:`DependencyCycleError` naming the cycle, e.g. ``a -> b -> a``. An order
    that is already valid (a CSV that lists lectures before what builds on them) is kept.
    """
    seen: set[str] = set()
    for node, deps in graph.items():
        if any(d in graph and d not in seen for d in deps):
            break
        seen.add(node)
    else:
        return list(graph)
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for node, deps in graph.items():
        sorter.add(node, *[d for d in deps if d in graph])
    try:
        return list(sorter.static_order())
    except CycleError as exc:
        cycle = list(exc.args[1])
        # graphlib lists the cycle as dependency order closing on its start; show it as
        # "a depends on b depends on a".
        raise DependencyCycleError(list(reversed(cycle))) from None


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    try:
        topological_order(graph)
    except DependencyCycleError as exc:
        return exc.cycle
    return None
