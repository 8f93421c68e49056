"""Progress table, job card and dashboard on a real Redis, as widgets and as text.

Widgets are built without a kernel (ipywidgets then talks to no frontend); what the frontend
would draw is the widgets' ``value``, which is what these tests read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from eduscribe_sdk import Client, JobStatus, JobType
from eduscribe_sdk.notebook import _TABLES, dashboard, in_notebook, job_card, progress_table

TEXT = (
    "Photosynthesis converts light energy into chemical energy. Chlorophyll absorbs sunlight. "
    "The Calvin cycle fixes carbon dioxide into sugars that the plant stores as starch. "
) * 3


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Poll ``predicate`` until it holds; ``timeout`` only keeps a broken build from hanging."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def live_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def test_outside_jupyter_the_table_is_text_and_waits(client: Client) -> None:
    assert not in_notebook()
    jobs = [client.submit_text(TEXT, title=f"Lesson {i}") for i in range(3)]
    table = client.progress_table(jobs)
    assert table.widget is None
    assert table.wait(timeout=60) is True
    text = str(table)
    assert text.splitlines()[0] == "3 jobs, finished — ✔ 3 completed"
    assert [line.split()[1:3] for line in text.splitlines()[2:]] == [
        ["Lesson", "0"],
        ["Lesson", "1"],
        ["Lesson", "2"],
    ]
    assert "[##########] 100%" in repr(table)
    assert not table.running


def test_widget_rows_reach_completed_pushed_by_events(client: Client) -> None:
    jobs = [client.submit_text(TEXT, title=f"Chapter {i}") for i in range(4)]
    table = progress_table(client, jobs, widget=True)
    assert table.widget is not None and table.running
    assert table.wait(timeout=60)
    assert table._table.value.count('data-status="completed"') == 4
    assert "4/4 finished" in table._header.value
    assert "all jobs finished" in table._state.value
    bundle = table._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # The updater thread stops by itself once everything finished.
    wait_for(lambda: not table.running, "the updater to stop")


def test_failed_job_shows_its_error_message(client: Client) -> None:
    # Offline, a YouTube job fails (no retries asked for) with a message on its row.
    job = client.submit_youtube("https://www.youtube.com/watch?v=dQw4w9WgXcQ", title="<Talk>", max_retries=0)
    table = progress_table(client, [job], widget=True)
    assert table.wait(timeout=60)
    row = table.model.rows[job.id]
    assert row.status is JobStatus.FAILED
    assert row.error
    assert 'data-status="failed"' in table._table.value
    assert "&lt;Talk&gt;" in table._table.value
    assert "✖ 1 failed" in str(table)


def test_running_the_cell_again_replaces_the_old_updater(bare_client: Client) -> None:
    # Given jobs that stay queued (no workers)
    jobs = [bare_client.submit_text(TEXT) for _ in range(2)]
    first = progress_table(bare_client, jobs, widget=True)
    assert first.running
    # When the same table is shown again
    second = progress_table(bare_client, reversed(jobs), widget=True)
    # Then the first stopped and only the second updates
    assert not first.running and second.running
    assert [t for t in _TABLES.values() if t.running] == [second]
    # And a new event reaches the live table
    bare_client.cancel(jobs[0].id)
    wait_for(lambda: second.model.rows[jobs[0].id].status is JobStatus.CANCELLED, "the cancel event")
    assert first.model.rows[jobs[0].id].status is JobStatus.QUEUED
    second.stop()
    assert not second.running


def test_queued_rows_show_position_and_estimated_wait(bare_client: Client) -> None:
    jobs = [bare_client.submit_text(TEXT) for _ in range(3)]
    table = progress_table(bare_client, jobs, widget=False)
    try:
        rows = [table.model.rows[j.id] for j in jobs]
        assert [r.position for r in rows] == [0, 1, 2]
        assert rows[0].estimated_wait_s == 0.0
        assert rows[2].estimated_wait_s is not None and rows[2].estimated_wait_s > 0
        assert table.wait(timeout=0.3) is False
    finally:
        table.stop()


def test_a_thousand_jobs_stay_responsive(bare_client: Client, fast_settings: object) -> None:
    # Given 1,000 queued jobs watched by one widget table
    specs = [
        bare_client.prepare_job(JobType.TEXT_NOTES, {"content": TEXT}, id=f"bulk-{i:04d}", title=f"Doc {i}")
        for i in range(1000)
    ]
    ids = bare_client.create_jobs(specs)
    table = progress_table(bare_client, ids, widget=True)  # its time: benchmarks/bench_widgets.py
    try:
        assert table._table.value.count('class="eduscribe-row"') == 50
        assert "… and 950 more (950 queued)" in table._table.value
        # When 600 of them are cancelled in a burst
        for job_id in ids[:600]:
            bare_client.cancel(job_id)
        # Then the table catches up within a few batches, not one redraw per job
        # (the header is drawn first, then the rows)
        wait_for(lambda: "600 cancelled)" in table._table.value, "the table to show the cancels")
        assert table.model.counts()[JobStatus.CANCELLED] == 600
        assert table.draws < 100
        assert "… and 950 more (350 queued, 600 cancelled)" in table._table.value
        assert table.running
    finally:
        table.stop()


def test_table_of_unknown_job_names_it(bare_client: Client) -> None:
    from eduscribe_sdk import JobNotFoundError

    with pytest.raises(JobNotFoundError, match="nope"):
        progress_table(bare_client, ["nope"])


def test_default_jobs_are_the_users_unfinished_ones(bare_client: Client) -> None:
    queued = [bare_client.submit_text(TEXT) for _ in range(2)]
    done = bare_client.submit_text(TEXT)
    bare_client.cancel(done.id)
    table = bare_client.progress_table()
    try:
        assert table.job_ids == [j.id for j in queued]
    finally:
        table.stop()


def test_job_card_buttons_cancel_and_retry(bare_client: Client) -> None:
    job = bare_client.submit_text(TEXT, title="<Quiz me>")
    card = job_card(bare_client, job, widget=True)
    assert "&lt;Quiz me&gt;" in card._html.value
    assert not card.cancel_button.disabled and card.retry_button.disabled
    # Cancel, as a person clicking the button
    card.cancel_button.click()
    assert card.record.status is JobStatus.CANCELLED
    assert card.cancel_button.disabled and not card.retry_button.disabled
    assert 'data-status="cancelled"' in card._html.value
    # Retry puts it back in line and the card follows it again
    card.retry_button.click()
    assert card.record.status.value == "queued"
    assert card.running
    # A second cancel click is refused by the store: the card says so instead of raising
    bare_client.cancel(job.id)
    card._act(card.cancel)
    assert "cannot cancel" in card._message.value
    card.stop()
    assert "cancelled" in repr(card)


def test_job_card_follows_a_running_job_to_completion(client: Client) -> None:
    job = client.submit_text(TEXT, title="Photosynthesis")
    card = job_card(client, job.id, widget=True)
    client.wait(job.id, timeout=60)
    wait_for(lambda: not card.running, "the card to stop following")
    assert card.record.status is JobStatus.COMPLETED
    assert "Notes" in card._html.value and "<h" in card._html.value
    assert card.cancel_button.disabled and card.retry_button.disabled


def test_dashboard_refreshes_and_stops(client: Client) -> None:
    board = dashboard(client, interval=0.1, widget=True)
    assert board.running
    first = board.data.at
    client.submit_text(TEXT, title="Dash job")
    wait_for(lambda: "Dash job" in board.widget.value, "the dashboard to show the job")
    assert board.data.at > first
    assert client.worker_id is not None and client.worker_id in board.widget.value
    # Showing it again replaces the old one
    again = dashboard(client, interval=0.1, widget=True)
    assert not board.running and again.running
    again.stop()
    assert not again.running
    assert "EduScribe queue at" in repr(again)


def test_dashboard_text_outside_jupyter_does_not_start_a_thread(client: Client) -> None:
    before = len(live_threads("eduscribe-dashboard"))
    board = client.dashboard()
    assert board.widget is None and not board.running
    assert len(live_threads("eduscribe-dashboard")) == before
    assert "workers:" in repr(board)


def test_live_updates_stop_when_the_client_closes(redis_url: str, fast_settings: object) -> None:
    from eduscribe_sdk import Settings

    assert isinstance(fast_settings, Settings)
    with Client(redis_url, user_id="t", workers=1, settings=fast_settings) as c:
        board = dashboard(c, interval=0.1, widget=True)
        assert board.running
    wait_for(lambda: not board.running, "the dashboard to stop")
