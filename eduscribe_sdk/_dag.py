"""Pure dependency-graph logic: order a set of new jobs and find cycles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter

from .errors import DependencyCycleError, InvalidInputError

__all__ = ["find_cycle", "topological_order"]


def topological_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Ids so that every id comes after the ids it depends on (only ids in ``graph`` are ordered).

    Raises :class:`DependencyCycleError` naming the cycle, e.g. ``a -> b -> a``. An order
    that is already valid (a CSV that lists lectures before what builds on them) is kept.
    """
    _check_graph(graph)
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


def _check_graph(graph: object) -> None:
    """{id: [ids it depends on]} with string ids; anything else is bad input, not a TypeError."""
    if not isinstance(graph, Mapping):
        raise InvalidInputError(f"must be a mapping of id -> ids, got {type(graph).__name__}", field="graph")
    for node, deps in graph.items():
        if (
            not isinstance(node, str)
            or isinstance(deps, str)
            or not isinstance(deps, Sequence | set | frozenset)
            or not all(isinstance(d, str) for d in deps)
        ):
            message = f"{node!r}: ids must be strings, dependencies a list of them"
            raise InvalidInputError(message, field="graph")


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    try:
        topological_order(graph)
    except DependencyCycleError as exc:
        return exc.cycle
    return None
