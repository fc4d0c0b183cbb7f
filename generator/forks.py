"""Work shared out to forked processes, which see the parent's memory as it is (nothing to send them but the
numbers of their part), where the system can fork; a task's results come back in order."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

_FORKED: Callable[[int, int], object] | None = None   # the task of the forked workers


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def usable_cores() -> int:
    """The processor cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_forks(task: Callable[[int, int], object], n: int, workers: int, least: int) -> list:
    """``task(lo, hi)`` over ``range(n)`` cut into parts of at least ``least``, several a worker (an even finish),
    run by ``workers`` forked processes; the results of the parts, in order."""
    global _FORKED
    step = max(least, -(-n // (workers * 8)))
    _FORKED = task
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return [f.result() for f in [pool.submit(_run_forked, lo, min(n, lo + step)) for lo in range(0, n, step)]]
    finally:
        _FORKED = None


def in_a_fork(task: Callable[[], object]):
    """``task()`` run in one forked process, its result sent back. What the task loads or allocates on the way (a
    numerical library, its buffers) goes away with that process instead of staying in this one's memory."""
    return in_forks(lambda lo, hi: task(), 1, 1, 1)[0]


def _run_forked(lo: int, hi: int):
    return _FORKED(lo, hi)


def beside(task: Callable[[], object]) -> Callable[[], object]:
    """Start ``task()`` in a forked process and go on; the function returned waits for its result (or raises what
    it raised). Where the system cannot fork, the task runs when its result is asked for. Ask for it in every case,
    errors included: the process sends its result when read, and stays until then."""
    if not can_fork():
        return task
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the forked process: the task, its result down the pipe, and out without this process's exit work
        try:
            os.close(read)
            try:
                payload = pickle.dumps((True, task()), pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:   # sent back to be raised there
                try:
                    payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
                except Exception:
                    payload = pickle.dumps((False, RuntimeError(traceback.format_exc())), pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as fh:
                fh.write(payload)
        finally:
            os._exit(0)
    os.close(write)

    def result():
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
        if not data:
            raise RuntimeError(f"a forked process ended without its result (exit status {status})")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value
    return result
