"""HTML and text for job cards and the queue dashboard, with no widget library.

Everything a user typed or a processor produced (titles, errors, notes) is escaped here;
notes go through a Markdown renderer with raw HTML switched off.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .models import JobRecord, JobStatus
from .progress_model import STATUS_STYLES, format_duration, progress_bar_html, status_badge_html

__all__ = [
    "DashboardData",
    "dashboard_html",
    "dashboard_text",
    "job_card_html",
    "job_card_text",
    "markdown_html",
]

_FONT = "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px"
_FACT_TH = "text-align:left;padding:1px 10px 1px 0;color:#666;font-weight:500"


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
