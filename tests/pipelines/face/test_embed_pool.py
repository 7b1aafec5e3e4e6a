"""ProcessRecognizer: the same descriptors as dlib in process, recovery from a dead helper, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pipelines.face.embed_pool import ProcessRecognizer
from veid.errors import StageError


@pytest.fixture(scope="module")
def model_path() -> str:
    import face_recognition_models as frm

    return frm.face_recognition_model_location()


@pytest.fixture(scope="module")
def pool(model_path):
    recognizer = ProcessRecognizer(model_path, 1)
    yield recognizer
    recognizer.close()


def _chips(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (150, 150, 3), dtype=np.uint8) for _ in range(n)]


def test_same_descriptors_as_dlib_in_process(pool, model_path):
    import dlib

    local = dlib.face_recognition_model_v1(model_path)
    chips = _chips(2)
    remote = pool.compute_face_descriptor(chips, 1)
    assert len(remote) == 2
    for chip, got in zip(chips, remote):
        np.testing.assert_allclose(got, np.asarray(local.compute_face_descriptor(chip, 1)), atol=1e-6)
    single = pool.compute_face_descriptor(chips[0], 1)
    assert single.shape == (128,)
    np.testing.assert_allclose(single, remote[0], atol=1e-6)


def test_a_dead_helper_is_a_stage_error_and_is_replaced(model_path):
    recognizer = ProcessRecognizer(model_path, 1)
    try:
        (pid,) = list(recognizer._pool._processes)
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        with pytest.raises(StageError, match="helper process died"):
            recognizer.compute_face_descriptor(_chips(1)[0], 1)
        assert recognizer.compute_face_descriptor(_chips(1)[0], 1).shape == (128,)
        assert pid not in recognizer._pool._processes
    finally:
        recognizer.close()


def test_bad_chip_raises_like_dlib(pool):
    with pytest.raises((RuntimeError, TypeError)):
        pool.compute_face_descriptor(np.zeros((10, 10), np.uint8), 1)


def test_helpers_exit_when_the_parent_is_killed(model_path, tmp_path, repo_root):
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from pipelines.face.embed_pool import ProcessRecognizer\n"
        "if __name__ == '__main__':\n"
        f"    r = ProcessRecognizer({model_path!r}, 2)\n"
        "    print(' '.join(str(p) for p in r._pool._processes), flush=True)\n"
        "    time.sleep(120)\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(repo_root))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        helpers = [int(p) for p in parent.stdout.readline().split()]
        assert len(helpers) == 2 and all(_alive(p) for p in helpers)
        parent.kill()  # SIGKILL: no atexit, no pool shutdown
        parent.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in helpers), "helper processes outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_batch_is_split_over_the_helpers_in_order(model_path):
    import dlib

    local = dlib.face_recognition_model_v1(model_path)
    recognizer = ProcessRecognizer(model_path, 2)
    try:
        chips = _chips(3)
        got = recognizer.compute_face_descriptor(chips, 1)
        assert len(got) == 3
        for chip, vec in zip(chips, got):
            np.testing.assert_allclose(vec, np.asarray(local.compute_face_descriptor(chip, 1)), atol=1e-6)
    finally:
        recognizer.close()
