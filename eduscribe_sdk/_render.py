"""Every piece of HTML EduScribe shows, and the matching text: job cards, the progress table,
the queue dashboard. No widget library and no IPython here; :mod:`eduscribe_sdk.notebook`
puts these strings into widgets and registers them as IPython's HTML display for records.

Everything a user typed or a processor produced (titles, errors, notes) is escaped here;
notes go through a Markdown renderer with raw HTML switched off.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._models import JobRecord, JobStatus
from ._progress import ProgressModel

if TYPE_CHECKING:
    from ._stats import QueueStats

__all__ = [
    "STATUS_STYLES",
    "DashboardData",
    "StatusStyle",
    "action_error_html",
    "dashboard_html",
    "dashboard_text",
    "format_duration",
    "job_card_html",
    "job_card_text",
    "markdown_html",
    "progress_bar_html",
    "progress_header_html",
    "progress_header_text",
    "progress_hidden_text",
    "progress_state_html",
    "progress_table_html",
    "progress_table_text",
    "queue_stats_html",
    "status_badge_html",
]

_FONT = "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px"
_FACT_TH = "text-align:left;padding:1px 10px 1px 0;color:#666;font-weight:500"


@dataclass(frozen=True, slots=True)
class StatusStyle:
    icon: str
    colour: str


# Narrow (single-cell) symbols, so the text table stays aligned in a terminal.
STATUS_STYLES: dict[JobStatus, StatusStyle] = {
    JobStatus.WAITING: StatusStyle("◔", "#8d8d8d"),
    JobStatus.QUEUED: StatusStyle("○", "#1e88e5"),
    JobStatus.PROCESSING: StatusStyle("▶", "#f57c00"),
    JobStatus.RETRYING: StatusStyle("↻", "#8e24aa"),
    JobStatus.COMPLETED: StatusStyle("✔", "#2e7d32"),
    JobStatus.FAILED: StatusStyle("✖", "#d32f2f"),
    JobStatus.CANCELLED: StatusStyle("⊘", "#616161"),
    JobStatus.SKIPPED: StatusStyle("↷", "#9e9e9e"),
}


def format_duration(seconds: float | None) -> str:
    """``"4.2s"``, ``"3m 05s"``, ``"2h 07m"``; ``""`` for unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def status_badge_html(status: JobStatus) -> str:
    style = STATUS_STYLES[status]
    return (
        f'<span class="eduscribe-status eduscribe-{status.value}" style="color:{style.colour};'
        f'font-weight:600;white-space:nowrap">{style.icon} {status.value}</span>'
    )


def progress_bar_html(percent: int, status: JobStatus) -> str:
    colour = STATUS_STYLES[status].colour
    percent = max(0, min(100, percent))
    return (
        '<div style="display:inline-block;width:110px;height:10px;background:#e0e0e0;'
        'border-radius:5px;overflow:hidden;vertical-align:middle">'
        f'<div style="width:{percent}%;height:100%;background:{colour}"></div></div>'
        f' <span style="font-variant-numeric:tabular-nums">{percent}%</span>'
    )


def _by_status(counts: Counter[JobStatus]) -> list[tuple[JobStatus, int]]:
    return [(status, counts[status]) for status in JobStatus if counts.get(status)]


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_html(markdown: str) -> str:
    """Notes as HTML; raw HTML inside the Markdown is shown as text, never run."""
    from markdown_it import MarkdownIt  # rich's own Markdown engine, already installed with it

    rendered: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return rendered


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _facts(record: JobRecord, now: datetime) -> list[tuple[str, str]]:
    facts = [
        ("id", record.id),
        ("type", record.job_type.value),
        ("priority", record.priority.value),
        ("status", record.status.value),
        ("progress", f"{record.progress}%"),
    ]
    if record.queue_position is not None:
        facts.append(("position", f"{record.queue_position} job(s) ahead"))
    facts.append(("created", _when(record.created_at)))
    if record.started_at:
        facts.append(("started", _when(record.started_at)))
        facts.append(("waited", format_duration((record.started_at - record.created_at).total_seconds())))
    if record.completed_at:
        facts.append(("finished", _when(record.completed_at)))
    if record.actual_duration_seconds is not None:
        facts.append(("took", format_duration(record.actual_duration_seconds)))
    elif record.started_at and not record.finished:
        facts.append(("running for", format_duration((now - record.started_at).total_seconds())))
    if record.retry_count:
        facts.append(("retries", f"{record.retry_count} of {record.max_retries}"))
    if record.depends_on:
        facts.append(("depends on", ", ".join(record.depends_on)))
    if record.worker_id:
        facts.append(("worker", record.worker_id))
    return facts


def job_card_html(record: JobRecord, *, now: datetime | None = None, notes: bool = True) -> str:
    """A compact card: status, progress, position, timings, error; notes when completed."""
    now = now or datetime.now(UTC)
    colour = STATUS_STYLES[record.status].colour
    title = html.escape(record.title or record.id)
    rows = "".join(
        f'<tr><th style="{_FACT_TH}">{html.escape(k)}</th>'
        f'<td style="padding:1px 0">{html.escape(v)}</td></tr>'
        for k, v in _facts(record, now)
        if k != "status" and k != "progress"
    )
    error = ""
    if record.error_message:
        error = (
            '<div class="eduscribe-error" style="margin-top:6px;padding:6px 8px;background:#fdecea;'
            f'border-radius:4px;color:#b71c1c">{html.escape(record.error_message)}</div>'
        )
    body = ""
    markdown = (record.output_data or {}).get("markdown")
    if notes and record.status is JobStatus.COMPLETED and isinstance(markdown, str) and markdown.strip():
        body = (
            '<details open style="margin-top:8px"><summary style="cursor:pointer">Notes</summary>'
            f'<div class="eduscribe-notes" style="max-height:420px;overflow:auto;padding:0 8px">'
            f"{markdown_html(markdown)}</div></details>"
        )
    return (
        f'<div class="eduscribe-card" data-job-id="{html.escape(record.id)}" '
        f'data-status="{record.status.value}" '
        f'style="{_FONT};border:1px solid #ddd;border-left:4px solid {colour};border-radius:4px;'
        'padding:8px 12px;margin:4px 0;max-width:820px">'
        f'<div style="display:flex;gap:12px;align-items:center"><b style="font-size:14px">{title}</b>'
        f"{status_badge_html(record.status)}{progress_bar_html(record.progress, record.status)}</div>"
        f'<table style="margin-top:4px;border-collapse:collapse">{rows}</table>{error}{body}</div>'
    )


def queue_stats_html(stats: QueueStats) -> str:
    """``client.stats()`` in Jupyter: its per-tier frame as pandas draws it."""
    rendered: str = stats.frame.to_html()
    return rendered


def job_card_text(record: JobRecord, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    icon = STATUS_STYLES[record.status].icon
    lines = [f"{icon} {record.title or record.id}  [{record.status.value} {record.progress}%]"]
    lines += [f"  {k:<12} {v}" for k, v in _facts(record, now) if k not in ("status", "progress")]
    if record.error_message:
        lines.append(f"  {'error':<12} {record.error_message}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DashboardData:
    """What the dashboard shows, as plain values (taken from ``client.stats()``/``workers()``)."""

    totals: Mapping[str, Any]
    queue: Mapping[str, Any]
    tiers: Sequence[Mapping[str, Any]]
    workers: Sequence[Mapping[str, Any]]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


_TIER_COLUMNS = (
    "priority",
    "queue",
    "depth",
    "waiting",
    "queued",
    "processing",
    "retrying",
    "completed",
    "failed",
)


def _age(at: datetime, then: Any) -> str:
    if not isinstance(then, datetime):
        return "—"
    return format_duration(max(0.0, (at - then).total_seconds())) + " ago"


_CELL = "padding:2px 10px;text-align:left;border-bottom:1px solid #eee"


def _td(content: str, extra: str = "") -> str:
    """A cell; ``content`` must already be HTML (escape user values before)."""
    return f'<td style="{_CELL}{extra}">{content}</td>'


def _html_table(headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        rows = [f'<tr><td colspan="{len(headers)}" style="{_CELL};color:#666">{html.escape(empty)}</td></tr>']
    head = "".join(f'<th style="{_CELL}">{html.escape(h)}</th>' for h in headers)
    body = "".join(rows)
    return (
        f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _kpi(name: str, value: object) -> str:
    return (
        '<div style="display:inline-block;margin:0 18px 6px 0">'
        f'<div style="color:#666;font-size:11px">{html.escape(name)}</div>'
        f'<div style="font-size:20px;font-weight:600">{html.escape(str(value))}</div></div>'
    )


def dashboard_html(data: DashboardData) -> str:
    q, e = data.queue, html.escape
    kpis = [
        ("queued", q.get("queuedCount", 0)),
        ("processing", q.get("processingCount", 0)),
        ("est. wait", format_duration(q.get("estimatedWaitTimeSeconds")) or "0s"),
        ("completed", data.totals.get("completed_jobs", 0)),
        ("failed", data.totals.get("failed_jobs", 0)),
        ("avg duration", format_duration(data.totals.get("avg_duration_seconds")) or "—"),
        ("live workers", sum(1 for w in data.workers if w.get("alive"))),
    ]
    tiers = ["<tr>" + "".join(_td(e(str(t.get(c, "")))) for c in _TIER_COLUMNS) + "</tr>" for t in data.tiers]
    workers = [
        "<tr>"
        + _td(f"{'🟢' if w.get('alive') else '🔴'} {e(str(w.get('id', '')))}")
        + _td(e(str(w.get("threads", ""))))
        + _td(e(str(w.get("jobs_in_flight", ""))))
        + _td(_age(data.at, w.get("last_seen")))
        + "</tr>"
        for w in data.workers
    ]
    recent = [
        "<tr>"
        + _td(e(str(r.get("title") or r.get("id"))))
        + _td(e(str(r.get("job_type", ""))))
        + _td(e(str(r.get("priority", ""))))
        + _td(_status_html(r.get("status")))
        + _td(f"{e(str(r.get('progress', '')))}%")
        + _td(_age(data.at, r.get("created_at")))
        + "</tr>"
        for r in q.get("recentJobs", [])
    ]
    h4 = "<h4 style='margin:8px 0 2px'>"
    return (
        f'<div class="eduscribe-dashboard" style="{_FONT}">'
        '<div style="font-weight:600;font-size:15px;margin-bottom:6px">EduScribe queue '
        f'<span style="color:#888;font-weight:400;font-size:11px">updated {data.at:%H:%M:%S} UTC</span></div>'
        + "".join(_kpi(name, value) for name, value in kpis)
        + f"{h4}Queues</h4>{_html_table(_TIER_COLUMNS, tiers, 'no queues')}"
        + f"{h4}Workers</h4>"
        + _html_table(("worker", "threads", "in flight", "last heartbeat"), workers, "no workers connected")
        + f"{h4}Recent jobs</h4>"
        + _html_table(("job", "type", "priority", "status", "progress", "created"), recent, "no jobs yet")
        + "</div>"
    )


def _status_html(value: Any) -> str:
    try:
        return status_badge_html(JobStatus(value))
    except ValueError:
        return html.escape(str(value))


def dashboard_text(data: DashboardData) -> str:
    q = data.queue
    lines = [
        f"EduScribe queue at {data.at:%H:%M:%S} UTC: {q.get('queuedCount', 0)} queued, "
        f"{q.get('processingCount', 0)} processing, estimated wait "
        f"{format_duration(q.get('estimatedWaitTimeSeconds')) or '0s'}; "
        f"{data.totals.get('completed_jobs', 0)} completed, {data.totals.get('failed_jobs', 0)} failed",
        "queues:",
    ]
    for t in data.tiers:
        lines.append(
            f"  {t.get('priority', '')!s:<7} depth {t.get('depth', 0):>4}  queued {t.get('queued', 0):>4}  "
            f"processing {t.get('processing', 0):>3}  failed {t.get('failed', 0):>3}"
        )
    lines.append("workers:" if data.workers else "workers: none connected")
    for w in data.workers:
        state = "alive" if w.get("alive") else "silent"
        lines.append(
            f"  {w.get('id')} ({state}, {w.get('jobs_in_flight', 0)} in flight, "
            f"last heartbeat {_age(data.at, w.get('last_seen'))})"
        )
    recent = q.get("recentJobs", [])
    if recent:
        lines.append("recent jobs:")
        for r in recent:
            lines.append(
                f"  {r.get('status', ''):<10} {r.get('job_type', ''):<14} {r.get('title') or r.get('id')}"
            )
    return "\n".join(lines)


# --- the progress table ---------------------------------------------------------------------
def progress_hidden_text(model: ProgressModel) -> str | None:
    """``"… and 950 more (800 completed, 150 queued)"`` when rows are capped."""
    hidden = model.hidden_counts()
    if not hidden:
        return None
    parts = ", ".join(f"{n} {status.value}" for status, n in _by_status(hidden))
    return f"… and {sum(hidden.values())} more ({parts})"


def progress_header_text(model: ProgressModel) -> str:
    counts = model.counts()
    total = len(model.rows)
    done = sum(n for status, n in counts.items() if status.finished)
    parts = " · ".join(f"{STATUS_STYLES[s].icon} {n} {s.value}" for s, n in _by_status(counts))
    state = "finished" if done == total else f"{done}/{total} finished"
    return f"{total} job{'s' if total != 1 else ''}, {state} — {parts}" if total else "no jobs"


def progress_table_text(model: ProgressModel, now: datetime | None = None) -> str:
    """The header line, then one aligned line per visible row, then the hidden-rows line."""
    now = now or datetime.now(UTC)
    header = ["", "job", "type", "priority", "status", "progress", "pos", "est. wait", "elapsed", "error"]
    lines = [header]
    for row in model.visible():
        filled = row.progress // 10
        lines.append(
            [
                STATUS_STYLES[row.status].icon,
                _clip(row.label, 32),
                row.job_type,
                row.priority,
                row.status.value,
                f"[{'#' * filled}{'.' * (10 - filled)}] {row.progress:3d}%",
                "" if row.position is None else str(row.position),
                format_duration(row.estimated_wait_s),
                format_duration(row.elapsed_s(now)),
                _clip(row.error or "", 60),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [progress_header_text(model)]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    summary = progress_hidden_text(model)
    if summary:
        out.append(summary)
    return "\n".join(out)


def progress_header_html(model: ProgressModel) -> str:
    counts = model.counts()
    chips = "".join(
        f'<span style="margin-right:14px">{status_badge_html(s)} <b>{n}</b></span>'
        for s, n in _by_status(counts)
    )
    total = len(model.rows)
    done = sum(n for status, n in counts.items() if status.finished)
    return (
        '<div class="eduscribe-progress-header" style="font-family:var(--jp-ui-font-family,sans-serif);'
        'margin:4px 0">'
        f"<b>EduScribe jobs</b> — {done}/{total} finished &nbsp; {chips}</div>"
    )


def progress_table_html(model: ProgressModel, now: datetime | None = None) -> str:
    """The table (without the header): one HTML string, so one widget update per batch."""
    now = now or datetime.now(UTC)
    cells = "padding:2px 8px;text-align:left;border-bottom:1px solid #eee"
    head = "".join(
        f'<th style="{cells}">{h}</th>'
        for h in (
            "job",
            "type",
            "priority",
            "status",
            "progress",
            "position",
            "est. wait",
            "elapsed",
            "error",
        )
    )
    body = []
    for row in model.visible():
        body.append(
            f'<tr class="eduscribe-row" data-job-id="{html.escape(row.id)}" '
            f'data-status="{row.status.value}">'
            f'<td style="{cells}" title="{html.escape(row.id)}">{html.escape(_clip(row.label, 48))}</td>'
            f'<td style="{cells}">{row.job_type}</td>'
            f'<td style="{cells}">{row.priority}</td>'
            f'<td style="{cells}">{status_badge_html(row.status)}</td>'
            f'<td style="{cells}">{progress_bar_html(row.progress, row.status)}</td>'
            f'<td style="{cells}">{"" if row.position is None else row.position}</td>'
            f'<td style="{cells}">{format_duration(row.estimated_wait_s)}</td>'
            f'<td style="{cells}">{format_duration(row.elapsed_s(now))}</td>'
            f'<td style="{cells};color:#d32f2f">{html.escape(_clip(row.error or "", 120))}</td>'
            "</tr>"
        )
    summary = progress_hidden_text(model)
    foot = (
        f'<tr><td colspan="9" style="{cells};color:#666;font-style:italic">{html.escape(summary)}</td></tr>'
        if summary
        else ""
    )
    return (
        '<table class="eduscribe-progress" style="border-collapse:collapse;font-size:13px">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}{foot}</tbody></table>"
    )


def progress_state_html(*, error: BaseException | None, finished: bool, running: bool) -> str:
    """The small line under a live table: why it stopped, or whether it still updates."""
    if error is not None:
        return (
            f'<span style="color:#b71c1c;font-size:11px">stopped updating: {html.escape(str(error))}</span>'
        )
    if finished:
        return '<span style="color:#666;font-size:11px">all jobs finished</span>'
    if running:
        return '<span style="color:#666;font-size:11px">● live</span>'
    return '<span style="color:#666;font-size:11px">not updating (call .refresh() or .wait())</span>'


def action_error_html(error: BaseException) -> str:
    """A refused button action (cancel a finished job…), shown next to the card's buttons."""
    return f'<span style="color:#b71c1c">{html.escape(str(error))}</span>'
