"""A handle on one job: what :meth:`Client.create_job` and :meth:`Client.job` return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._models import JobRecord, JobStatus

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["JobHandle"]


class JobHandle:
    """A job you created or looked up. Its fields are a snapshot; :meth:`refresh` updates them."""

    def __init__(self, client: Client, record: JobRecord) -> None:
        self.client = client
        self.record = record

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def status(self) -> JobStatus:
        return self.record.status

    @property
    def progress(self) -> int:
        return self.record.progress

    @property
    def position(self) -> int | None:
        """Jobs that will start before this one (all tiers), or None when it is not queued."""
        return self.record.queue_position

    @property
    def output(self) -> dict[str, Any] | None:
        return self.record.output_data

    @property
    def estimated_wait_seconds(self) -> float | None:
        """Expected seconds until this queued job starts (None when it is not queued)."""
        return self.client.estimated_wait_seconds(self.record)

    def refresh(self) -> JobHandle:
        self.record = self.client.get_job(self.id)
        return self

    def wait(self, timeout: float | None = None) -> JobRecord:
        self.record = self.client.wait(self.id, timeout=timeout)
        return self.record

    def cancel(self) -> None:
        self.client.cancel(self.id)
        self.refresh()

    def retry(self) -> None:
        self.client.retry(self.id)
        self.refresh()

    def __repr__(self) -> str:
        where = f", position={self.position}" if self.position is not None else ""
        return (
            f"<JobHandle {self.id} {self.record.job_type.value} {self.status.value} {self.progress}%{where}>"
        )

    def card(self) -> Any:
        """A live job card widget with Cancel / Retry buttons (text outside Jupyter)."""
        from .notebook import job_card

        return job_card(self.client, self)
