"""The threads the sync transport runs an exchange on, so that its caller can stop waiting at the
answer deadline (answer_deadline.py). A blocked read cannot be interrupted from its own thread, and
a server that drips its headers one byte at a time keeps httpcore inside one call until the last
header: the caller's thread therefore waits for a worker, never on the socket. Workers are daemon
threads (an exchange a server holds open must not keep the interpreter from exiting) and are kept
for reuse, as starting a thread costs about as much as the client's own work on a small request; an
idle worker ends after ``IDLE_SECONDS``. The caller's context variables go with each exchange
(tracing spans, for instance)."""

from __future__ import annotations

import contextvars
import queue
import threading
from typing import Callable

#: How long an idle worker waits for the next exchange before it ends.
IDLE_SECONDS = 60.0

_lock = threading.Lock()
_tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
# Workers waiting for a task, less the tasks queued for them: kept under _lock with every put.
_idle = 0


def run_on_worker(task: Callable[[], None]) -> None:
    """Runs ``task`` on an idle worker, or a new one; it must not raise."""
    global _idle
    bound = contextvars.copy_context()
    job = lambda: bound.run(task)  # noqa: E731
    with _lock:
        if _idle > 0:
            _idle -= 1
            _tasks.put(job)
            return
    threading.Thread(target=_work, args=(job,), name="continuum-answer", daemon=True).start()


def _work(job: Callable[[], None]) -> None:
    global _idle
    while True:
        job()
        with _lock:
            _idle += 1
        try:
            job = _tasks.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                # A task put after the timeout was counted against a waiting worker: take it.
                try:
                    job = _tasks.get_nowait()
                except queue.Empty:
                    _idle -= 1
                    return
