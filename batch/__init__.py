"""The batch runner: ``eduscribe-batch run course.csv`` turns a course CSV into study notes.

:mod:`batch.rows` reads and checks the CSV (pure), :mod:`batch.runner` plans, enqueues,
resumes and waits (no click), :mod:`batch.display` draws the live view and
:mod:`batch.cli` is the command line. See docs/batch.md.
"""

from .rows import BatchInvalidError, Problem, Row, read_course
from .runner import BatchNotFoundError, Plan, enqueue, load_batch, plan_batch, wait_for, write_outputs

__all__ = [
    "BatchInvalidError",
    "BatchNotFoundError",
    "Plan",
    "Problem",
    "Row",
    "enqueue",
    "load_batch",
    "plan_batch",
    "read_course",
    "wait_for",
    "write_outputs",
]
