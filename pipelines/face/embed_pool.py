"""dlib's face ResNet in helper processes, so that concurrent verifications embed faces in parallel.

dlib's Python binding holds the GIL for the whole forward pass (about 70 ms per chip here).
In a server that runs two verifications in two threads, the second thread's Python work then
waits for the first one's ResNet, and 2 cores behave like 1.3: measured in one process, 12
verifications took 744 ms each with two threads against 831 ms one after another, and 483 ms
with the ResNet in two helper processes (`python -m bench serving` reports the server-level
figure). :class:`ProcessRecognizer` is a drop-in for ``dlib.face_recognition_model_v1``'s
``compute_face_descriptor`` that runs it in a ``spawn`` process pool; when no other request is
embedding, a batch (the chip and its mirror image) is split over the helpers, so that one face's
two passes run side by side.

Each helper loads the model file once and exits on its own when the parent process goes away
(even after ``kill -9``, which never runs the parent's clean-up).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from veid.errors import ModelError, StageError

_RECOGNIZER = None  # the helper process's model


def _init_helper(model_path: str, parent_pid: int) -> None:
    global _RECOGNIZER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import dlib

    _RECOGNIZER = dlib.face_recognition_model_v1(model_path)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="veid-parent-watch").start()


def _exit_with_parent(parent_pid: int, period_s: float = 1.0) -> None:
    while os.getppid() == parent_pid:
        time.sleep(period_s)
    os._exit(0)


def _describe(chips, num_jitters: int):
    out = _RECOGNIZER.compute_face_descriptor(chips, num_jitters)
    if isinstance(chips, list):
        return [np.asarray(v, dtype=np.float64) for v in out]
    return np.asarray(out, dtype=np.float64)


class ProcessRecognizer:
    """``compute_face_descriptor(chip_or_chips, num_jitters)`` run by ``processes`` helper processes.

    Args:
        model_path: dlib ``face_recognition_model_v1`` file (the same one the parent hashes).
        processes: helper processes; one per request the server runs at once.
        start_timeout_s: how long loading the model in every helper may take.

    Raises:
        ModelError: a helper could not start or load the model.
    """

    def __init__(self, model_path: str | Path, processes: int, start_timeout_s: float = 60.0) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.model_path = str(model_path)
        self.processes = processes
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._in_flight = 0
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.processes, mp_context=mp.get_context("spawn"),
                                   initializer=_init_helper, initargs=(self.model_path, os.getpid()))
        blank = np.zeros((150, 150, 3), np.uint8)
        try:  # start every helper now (and load its model), not during the first requests
            for future in [pool.submit(_describe, blank, 1) for _ in range(self.processes)]:
                future.result(timeout=self.start_timeout_s)
        except Exception as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            raise ModelError(f"cannot start the face-embedding helper processes: {exc}") from exc
        return pool

    def compute_face_descriptor(self, chips, num_jitters: int = 1):
        """Same contract as dlib's: one chip -> one descriptor, a list of chips -> a list.

        Raises:
            StageError: a helper died (it is replaced for the next call).
            RuntimeError, TypeError: dlib refused the chip (as it does in process).
        """
        pool = self._pool
        with self._lock:
            alone = self._in_flight == 0
            self._in_flight += 1
        try:
            if not (alone and isinstance(chips, list) and len(chips) > 1 and self.processes > 1):
                return pool.submit(_describe, chips, num_jitters).result()
            # Nobody else is embedding: split the batch (a chip and its mirror) over the helpers so that the
            # passes run side by side (100 instead of 166 ms wall for a pair, for ~12 % more CPU). Under
            # concurrent requests each batch stays whole, which is the cheaper way to use busy cores.
            step = -(-len(chips) // self.processes)
            parts = [pool.submit(_describe, chips[i:i + step], num_jitters) for i in range(0, len(chips), step)]
            return [v for part in parts for v in part.result()]
        except BrokenProcessPool as exc:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._start()
            raise StageError("a face-embedding helper process died; it has been restarted") from exc
        finally:
            with self._lock:
                self._in_flight -= 1

    def close(self) -> None:
        """Stop the helpers (also done at interpreter exit)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
