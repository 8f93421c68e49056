"""One result row: a figure, its baseline from the same run, the ratio, and the target."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    section: str
    metric: str
    value: float | None
    unit: str
    #: What the figure is compared with, measured in the same run ("" when nothing is).
    baseline: str = ""
    baseline_value: float | None = None
    #: value / baseline_value, oriented so that > 1 means EduScribe is faster or bigger.
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio(value: float | None, base: float | None, *, lower_is_better: bool = False) -> float | None:
    if value is None or base is None or value <= 0 or base <= 0:
        return None
    return base / value if lower_is_better else value / base


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
