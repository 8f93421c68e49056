"""The worker runtime: everything that runs jobs, in one package.

=================  ================================================================
``runtime.py``     :class:`WorkerRuntime`: one worker process's store, settings, worker
                   id, settler and held jobs, shared by the consumer and the middleware
``broker.py``      :class:`PriorityBroker`: the dramatiq broker of the logical queue
``consumer.py``    :class:`PriorityConsumer`: fetches and claims jobs for the free slots
``message.py``     :class:`JobMessage`: a delivered job with its claim and, later, its run
``lifecycle.py``   :class:`JobLifecycle` middleware: accepts the claim, records the outcome
``heartbeat.py``   :class:`WorkerHeartbeat` middleware: registration and heartbeats
``settling.py``    :class:`Settler`: group commit of outcomes
``outage.py``      riding out a Redis outage: progress dropped, outcomes retried (a window)
``outcomes.py``    :class:`OutcomeLog`: repairs claims and outcomes a Redis restart lost
``run.py``         :class:`JobRun`: one attempt, the processor's ``JobContext``
``isolation.py``   :class:`ChildPool`: processors in warm child processes, killed on cancel,
                   at the time limit and at shutdown; ``child.py`` is the child's side
``signals.py``     SIGTERM to the whole process group stops the worker gracefully
``actors.py``      one actor per job type, all with the body :func:`run_job`
``build.py``       :func:`middleware_stack` and :func:`build_broker`
``inprocess.py``   :class:`InProcessWorker`: a dramatiq Worker inside this process
=================  ================================================================

How a job travels. dramatiq's Worker passes the object the consumer returned to every hook,
to the actor call (``actor(*message.args, **message.kwargs)``) and back to the consumer's
``ack``; everything the parts tell each other rides on that object, a :class:`JobMessage`:

1. The consumer's fetch claims jobs in the same round trip and wraps each claim in a
   ``JobMessage`` (``claim``, ``fetched_at``).
2. ``JobLifecycle.before_process_message`` checks the claim (again in Redis only if it
   waited longer than half the heartbeat timeout; a message without a claim claims with
   ``start``), or skips the message. It then ``accept``\\ s a :class:`JobRun`: the run is
   stored on the message and becomes the actor's one argument.
3. The actor runs the processor in the slot's child process (the thread relays its progress
   to the run, checks for cancellation, and kills the child when the attempt must stop) and
   leaves the output in
   ``run.output`` (returning it would make dramatiq log a warning per job, since there is
   no Results middleware).
4. ``JobLifecycle.after_process_message`` reads ``message.run`` and settles the attempt
   through the :class:`Settler`, which acknowledges the job in the same call; a message
   that ends without an outcome (skipped) is acknowledged alone, also by the lifecycle. The
   consumer's ``ack`` only frees the slot.

The middleware and the consumer get the store, settler, settings, worker id and held jobs
from the :class:`WorkerRuntime` they are constructed with, never from the broker.
"""

from .actors import declare_actors, run_job
from .broker import PriorityBroker
from .build import build_broker, middleware_stack
from .consumer import PriorityConsumer
from .heartbeat import WorkerHeartbeat
from .inprocess import InProcessWorker
from .lifecycle import JobLifecycle
from .message import LOGICAL_QUEUE, JobMessage
from .run import JobRun
from .runtime import WorkerRuntime
from .settling import Settler

__all__ = [
    "LOGICAL_QUEUE",
    "InProcessWorker",
    "JobLifecycle",
    "JobMessage",
    "JobRun",
    "PriorityBroker",
    "PriorityConsumer",
    "Settler",
    "WorkerHeartbeat",
    "WorkerRuntime",
    "build_broker",
    "declare_actors",
    "middleware_stack",
    "run_job",
]
