"""Suite-wide fixtures: repository paths, the shared real test data, quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///" + str(Path("/tmp") / f"veid-test-mlflow-{os.getpid()}.db"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`: real test data with licences and ground truth. Required, never skipped."""
    assert SHARED_DATA.is_dir(), f"shared test data not found at {SHARED_DATA}"
    return SHARED_DATA


def _tiny_zone_classifier(cls):
    """A :class:`pipelines.document.numpy_cnn.ZoneClassifier` subclass with random weights and 8 dense units
    (shapes only; it reads nothing)."""
    import numpy as np

    rng = np.random.default_rng(0)
    flat = (cls.SHAPE[0] // 4) * (cls.SHAPE[1] // 4) * 32 + 2
    k = len(cls.CLASSES)
    shapes = [(3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (flat, 8), (8,), (8, k), (k,)]
    return cls(*(rng.normal(0, 0.1, sh).astype(np.float32) for sh in shapes))


@pytest.fixture()
def tiny_mark_model():
    """A diacritic mark model (marks above letters) with random weights."""
    from pipelines.document.marks import MarkModel

    return _tiny_zone_classifier(MarkModel)


@pytest.fixture()
def tiny_low_mark_model():
    """A low-mark model (marks through or below letters) with random weights."""
    from pipelines.document.low_marks import LowMarkModel

    return _tiny_zone_classifier(LowMarkModel)


@pytest.fixture()
def tiny_caption_model():
    """A caption model with random weights and 8 dense units (shapes only; it reads nothing)."""
    import numpy as np

    from pipelines.document.captions import CLASSES, INPUT_SHAPE, CaptionModel

    rng = np.random.default_rng(1)
    flat = (INPUT_SHAPE[0] // 8) * (INPUT_SHAPE[1] // 8) * 8
    shapes = [(3, 3, 1, 4), (4,), (3, 3, 4, 8), (8,), (3, 3, 8, 8), (8,), (flat, 8), (8,), (8, len(CLASSES)),
              (len(CLASSES),)]
    return CaptionModel(*(rng.normal(0, 0.1, sh).astype(np.float32) for sh in shapes))
