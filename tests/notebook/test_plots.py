"""The matplotlib helpers draw real data from real job histories (Agg backend)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import matplotlib
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from eduscribe_sdk import Client, InvalidInputError, InvalidTransitionError, JobStatus
from eduscribe_sdk.plots import plot_dependencies, plot_failures, plot_throughput, plot_wait_by_priority

from .test_widgets import TEXT

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def history(client: Client) -> pd.DataFrame:
    client.set_user_tier("tester", "premium")
    done = [client.submit_text(TEXT, priority=p) for p in ("high", "high", "normal", "low")]
    client.wait_all([j.id for j in done], timeout=90)
    cancelled = client.submit_text(TEXT, priority="low")
    # It may have finished already; the plot then shows no cancellation.
    with contextlib.suppress(InvalidTransitionError):
        client.cancel(cancelled.id)
    return client.jobs_frame()


def test_wait_by_priority_draws_one_box_per_tier_with_data(history: pd.DataFrame) -> None:
    ax = plot_wait_by_priority(history)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["high", "normal", "low"]
    assert ax.get_ylabel() == "wait (s)"
    assert ax.lines  # box whiskers, medians, means


def test_throughput_counts_every_finished_job(history: pd.DataFrame) -> None:
    ax = plot_throughput(history, freq="1s")
    heights = sum(bar.get_height() for bar in ax.patches if isinstance(bar, Rectangle))
    assert heights == history["completed_at"].notna().sum()
    legend = ax.get_legend()
    assert legend is not None
    assert "completed" in [t.get_text() for t in legend.get_texts()]


def test_failures_and_empty_frames(history: pd.DataFrame) -> None:
    ax = plot_failures(history)
    assert ax.get_title() == "Jobs that did not complete, by type"
    empty = history.iloc[0:0]
    for plot in (plot_wait_by_priority, plot_throughput, plot_failures):
        assert plot(empty).texts  # a "no data" note instead of an error
    with pytest.raises(ValueError, match="jobs_frame"):
        plot_wait_by_priority(pd.DataFrame({"x": [1]}))


def test_dependency_graph_places_jobs_by_depth_and_colours_statuses() -> None:
    graph = {
        "welcome": [],
        "arrays": ["welcome"],
        "stacks": ["arrays"],
        "hash": ["arrays"],
        "summary": ["stacks", "hash"],
    }
    ax = plot_dependencies(graph, {"welcome": "completed", "summary": JobStatus.SKIPPED})
    boxes = {t.get_text().split("\n")[0]: t for t in ax.texts if t.get_text()}
    arrows = [t for t in ax.texts if not t.get_text()]
    assert len(arrows) == 5
    assert set(boxes) == set(graph)
    assert boxes["welcome"].get_position()[0] == 0 and boxes["summary"].get_position()[0] == 3
    assert boxes["welcome"].get_text() == "welcome\ncompleted"
    bbox = boxes["summary"].get_bbox_patch()
    assert bbox is not None and matplotlib.colors.to_hex(bbox.get_facecolor()) == "#9e9e9e"


@pytest.mark.parametrize("plot", [plot_wait_by_priority, plot_throughput, plot_failures])
def test_a_frame_without_the_needed_columns_is_invalid_input(plot: Callable[..., object]) -> None:
    with pytest.raises(InvalidInputError, match="jobs_frame") as info:
        plot(pd.DataFrame({"x": [1]}))
    assert info.value.field == "jobs"


def test_throughput_refuses_a_frequency_pandas_cannot_read(history: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError) as info:
        plot_throughput(history, freq="1 minute")
    assert info.value.field == "freq"


def test_dependencies_refuse_an_unknown_status() -> None:
    with pytest.raises(InvalidInputError) as info:
        plot_dependencies({"intro": [], "week1": ["intro"]}, {"week1": "done"})
    assert info.value.field == "statuses"
