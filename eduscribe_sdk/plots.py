"""Matplotlib charts of job histories (from :meth:`Client.jobs_frame`).

matplotlib is imported inside each function: it is a notebook extra, not a dependency::

    jobs = client.jobs_frame(limit=5000)
    plot_wait_by_priority(jobs)          # how long each tier waits before a job starts
    plot_throughput(jobs, freq="1min")   # finished jobs per minute, by outcome
    plot_failures(jobs)                  # failures per job type
    plot_dependencies({"summary": ["intro", "week1"], "week1": ["intro"], "intro": []})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._dag import topological_order
from ._models import JobStatus, Priority
from ._render import STATUS_STYLES
from ._validation import parse_status
from .errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["plot_dependencies", "plot_failures", "plot_throughput", "plot_wait_by_priority"]

_OUTCOME_COLOURS = {
    JobStatus.COMPLETED.value: "#2e7d32",
    JobStatus.FAILED.value: "#d32f2f",
    JobStatus.CANCELLED.value: "#616161",
    JobStatus.SKIPPED.value: "#9e9e9e",
}


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(7, 3.5))
    return new


def _require(frame: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"the frame has no column(s) {', '.join(missing)}: pass client.jobs_frame()", field="jobs"
        )


def plot_wait_by_priority(jobs: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Box plot of queue wait (created → started, seconds) per priority, urgent first."""
    _require(jobs, "priority", "wait_s")
    ax = _axes(ax)
    labels = [p.value for p in Priority]
    started = jobs.dropna(subset=["wait_s"])
    data = [started.loc[started["priority"].astype(str) == p, "wait_s"].to_numpy() for p in labels]
    shown = [(label, values) for label, values in zip(labels, data, strict=True) if len(values)]
    if shown:
        ax.boxplot([v for _, v in shown], tick_labels=[label for label, _ in shown], showmeans=True)
        for i, (_, values) in enumerate(shown, start=1):
            ax.annotate(
                f"n={len(values)}",
                (i, 1),
                xycoords=("data", "axes fraction"),
                xytext=(0, -12),
                textcoords="offset points",
                ha="center",
                fontsize="small",
                color="#666",
            )
    else:
        ax.text(0.5, 0.5, "no started jobs yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Wait before start, by priority")
    ax.set_xlabel("priority")
    ax.set_ylabel("wait (s)")
    return ax


def plot_throughput(jobs: pd.DataFrame, freq: str = "1min", *, ax: Axes | None = None) -> Axes:
    """Finished jobs per ``freq`` period (a pandas offset such as ``"10s"``, ``"1h"``), by outcome."""
    _require(jobs, "status", "completed_at")
    ax = _axes(ax)
    done = jobs.dropna(subset=["completed_at"])
    if done.empty:
        ax.text(0.5, 0.5, "no finished jobs yet", ha="center", va="center", transform=ax.transAxes)
    else:
        from ._stats import check_frequency

        check_frequency(freq)
        counts = (
            done.assign(outcome=done["status"].astype(str))
            .set_index("completed_at")
            .groupby("outcome")
            .resample(freq)
            .size()
            .unstack(level=0, fill_value=0)
            .fillna(0)
        )
        order = [c for c in _OUTCOME_COLOURS if c in counts.columns]
        counts = counts[order]
        bottom: Any = 0
        width = _bar_width(counts.index)
        for outcome in order:
            ax.bar(
                counts.index,
                counts[outcome],
                width=width,
                bottom=bottom,
                label=outcome,
                color=_OUTCOME_COLOURS[outcome],
                align="edge",
            )
            bottom = counts[outcome] + bottom
        ax.legend(loc="upper left", fontsize="small")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_title(f"Throughput (finished jobs per {freq})")
    ax.set_xlabel("finished at (UTC)")
    ax.set_ylabel("jobs")
    return ax


def _bar_width(index: pd.Index[Any]) -> float:
    """Bar width in days (matplotlib's date unit): one period, a little narrower."""
    freq = getattr(index, "freq", None)
    if freq is not None:
        step = float(((index[0] + freq) - index[0]).total_seconds())
    elif len(index) > 1:
        step = float((index[1] - index[0]).total_seconds())
    else:
        step = 60.0
    return 0.9 * step / 86400


def plot_failures(jobs: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Failed, cancelled and skipped jobs per job type (horizontal stacked bars)."""
    _require(jobs, "status", "job_type")
    ax = _axes(ax)
    unhappy = [JobStatus.FAILED.value, JobStatus.CANCELLED.value, JobStatus.SKIPPED.value]
    bad = jobs[jobs["status"].astype(str).isin(unhappy)]
    if bad.empty:
        ax.text(0.5, 0.5, "no failed jobs", ha="center", va="center", transform=ax.transAxes)
    else:
        table = (
            bad.groupby([bad["job_type"].astype(str), bad["status"].astype(str)]).size().unstack(fill_value=0)
        )
        left: Any = 0
        for status in [s for s in unhappy if s in table.columns]:
            ax.barh(table.index, table[status], left=left, label=status, color=_OUTCOME_COLOURS[status])
            left = table[status] + left
        ax.legend(fontsize="small")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Jobs that did not complete, by type")
    ax.set_xlabel("jobs")
    return ax


def plot_dependencies(
    graph: Mapping[str, Sequence[str]],
    statuses: Mapping[str, JobStatus | str] | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """A job dependency graph (``{name: [names it depends on]}``), left to right by depth.

    With ``statuses``, each box takes the colour of its job's status (as in the progress table).
    """
    known = {
        name: parse_status(status, field="statuses")
        for name, status in (statuses or {}).items()
        if status and name in graph
    }
    ax = _axes(ax)
    order = topological_order({name: list(deps) for name, deps in graph.items()})
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth[d] for d in graph.get(name, ()) if d in depth), default=-1)
    columns: dict[int, list[str]] = {}
    for name in order:
        columns.setdefault(depth[name], []).append(name)
    where: dict[str, tuple[float, float]] = {}
    for column, names in columns.items():
        for i, name in enumerate(names):
            where[name] = (float(column), (len(names) - 1) / 2 - i)
    for name, deps in graph.items():
        for dep in deps:
            if dep in where and name in where:
                ax.annotate(
                    "",
                    xy=where[name],
                    xytext=where[dep],
                    arrowprops={"arrowstyle": "->", "color": "#888", "shrinkA": 28, "shrinkB": 28},
                )
    for name, (x, y) in where.items():
        status = known.get(name)
        colour = STATUS_STYLES[status].colour if status else "#1e88e5"
        label = f"{name}\n{status.value}" if status else name
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=9,
            color="white",
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "none"},
        )
    xs = [x for x, _ in where.values()] or [0.0]
    ys = [y for _, y in where.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    ax.set_title("Dependencies (arrows point to the job that waits)")
    return ax
