"""Work shared out to forked processes, which see the parent's memory as it is (nothing to send them but the
numbers of their part), where the system can fork; a task's results come back in order."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def usable_cores() -> int:
    """The processor cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def shared_flag():
    """A flag (``.value``: 0, then 1 once set) that this process and the processes forked after it see alike."""
    return multiprocessing.get_context("fork").Value("b", 0, lock=False)


def in_forks(task: Callable[[int, int], object], n: int, workers: int, least: int) -> list:
    """``task(lo, hi)`` over ``range(n)`` cut into parts of at least ``least``, several a process (an even finish),
    run by ``workers`` processes: this one and ``workers - 1`` forked ones, each taking the next part not yet
    taken; the results of the parts, in order.

    This process works too instead of waiting: every forked process copies the memory pages of what it touches
    of this one's (a page worker forked from a build holding 1.5 GB copied a few hundred megabytes), so one fewer
    is that much less memory for the same number of busy cores."""
    step = max(least, -(-n // (workers * 8)))
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    workers = min(workers, len(bounds))
    if workers < 2 or not can_fork():
        return [task(lo, hi) for lo, hi in bounds]
    taken = multiprocessing.get_context("fork").Value("q", 0)   # the next part to take, seen by every process

    def take_parts() -> dict[int, object]:
        done = {}
        while True:
            with taken.get_lock():
                i = taken.value
                if i >= len(bounds):
                    return done
                taken.value = i + 1
            done[i] = task(*bounds[i])

    def stop() -> None:   # the others end after the part they are on
        with taken.get_lock():
            taken.value = len(bounds)

    others = [beside(take_parts) for _ in range(workers - 1)]
    results: dict[int, object] = {}
    error: BaseException | None = None
    # Here too the objects already there are left out of the garbage collections meanwhile: a build holds millions,
    # and a collection of the oldest ones walked them all, again and again while this process took its parts.
    frozen = not gc.get_freeze_count()
    if frozen:
        gc.freeze()
    try:
        results.update(take_parts())
    except BaseException as exc:
        stop()
        error = exc
    finally:
        if frozen:
            gc.unfreeze()
    for wait in others:   # each one's result read in every case: a forked process stays until then
        try:
            results.update(wait())
        except BaseException as exc:
            stop()
            error = error or exc
    if error is not None:
        raise error
    return [results[i] for i in range(len(bounds))]


def in_a_fork(task: Callable[[], object]):
    """``task()`` run in one forked process, its result sent back. What the task loads or allocates on the way (a
    numerical library, its buffers) goes away with that process instead of staying in this one's memory."""
    return beside(task)()


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
            _leave_parents_objects()
            _send(write, task)
        finally:
            os._exit(0)
    os.close(write)

    def result():
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
        return _received(data, status)
    return result


class Prepared:
    """A forked process that runs ``setup()`` at once (loading a library, a model) and then waits for one request:
    :meth:`ask` sends it and returns ``work(what setup gave, request)``, or raises what setup or work raised;
    :meth:`close` ends the process if it was never asked (at once, even in the middle of its setup). Where the
    system cannot fork, both run when asked, here. ``waited``: a :func:`shared_flag` set once this process waits for
    the answer (the work may then use the processor cores this one leaves free)."""

    def __init__(self, setup: Callable[[], object], work: Callable[[object, object], object], waited=None):
        self.setup, self.work, self.pid, self.waited = setup, work, None, waited
        if not can_fork():
            return
        ask_read, self._ask = os.pipe()
        self._answer, answer_write = os.pipe()
        pid = os.fork()
        if pid == 0:   # the forked process: ready itself, then the one request
            try:
                os.close(self._ask)
                os.close(self._answer)
                _leave_parents_objects()
                state, error = None, None
                try:
                    state = setup()
                except BaseException as exc:   # said when asked
                    error = exc
                with os.fdopen(ask_read, "rb") as fh:
                    data = fh.read()

                def answer():
                    if error is not None:
                        raise error
                    return self.work(state, pickle.loads(data))
                if data:
                    _send(answer_write, answer)
            finally:
                os._exit(0)
        os.close(ask_read)
        os.close(answer_write)
        self.pid = pid

    def ask(self, request):
        return self.ask_later(request)()

    def ask_later(self, request) -> Callable[[], object]:
        """Send the request and go on; the function returned waits for the answer (call it in every case: the
        process stays until its answer is read). Where the system cannot fork, the work runs when it is called."""
        if self.pid is None:
            return lambda: self.work(self.setup(), request)
        pid, self.pid = self.pid, None
        try:
            with os.fdopen(self._ask, "wb") as fh:
                fh.write(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:   # the process ended before it read it: said when the answer is read
            pass
        except BaseException:   # the request could not be sent: the process ends with nothing asked
            os.close(self._answer)
            os.waitpid(pid, 0)
            raise

        def answer():
            if self.waited is not None:
                self.waited.value = 1
            try:
                with os.fdopen(self._answer, "rb") as fh:
                    data = fh.read()
            finally:
                _, status = os.waitpid(pid, 0)
            return _received(data, status)
        return answer

    def close(self) -> None:
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        os.close(self._ask)
        os.close(self._answer)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def _leave_parents_objects() -> None:
    """In a forked process: the objects it shares with its parent are left out of its garbage collections. A
    collection walks every object it tracks and marks each in its header, which copies every memory page holding
    one: a process forked from a build holding a million records would copy most of them for nothing."""
    gc.freeze()


def _send(fd: int, task: Callable[[], object]) -> None:
    """``task()``'s result, or what it raised, pickled down ``fd`` (from a forked process)."""
    try:
        payload = pickle.dumps((True, task()), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:   # sent back to be raised there
        try:
            payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        except Exception:
            payload = pickle.dumps((False, RuntimeError(traceback.format_exc())), pickle.HIGHEST_PROTOCOL)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)


def _received(data: bytes, status: int):
    if not data:
        raise RuntimeError(f"a forked process ended without its result (exit status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value
