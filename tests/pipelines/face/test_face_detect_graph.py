"""MTCNN with compiled networks finds exactly the faces the eager package finds, on single images and batches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipelines.face.detect_graph import graph_mtcnn


@pytest.fixture(scope="module")
def detectors():
    from mtcnn import MTCNN

    return MTCNN(), graph_mtcnn()


@pytest.fixture(scope="module")
def faces(shared_data) -> list[np.ndarray]:
    paths = sorted((shared_data / "faces").glob("*.jpg"))[:3]
    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]


def _same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for fa, fb in zip(a, b):
        assert fa["box"] == fb["box"]
        assert fa["keypoints"] == fb["keypoints"]
        assert fa["confidence"] == pytest.approx(fb["confidence"], abs=1e-5)


def test_single_images_give_the_eager_faces(detectors, faces):
    eager, graph = detectors
    for img in faces:
        found = graph.detect_faces(img, min_face_size=20)
        assert found, "a portrait photo has a face"
        _same(eager.detect_faces(img, min_face_size=20), found)


def test_batch_of_turned_images_gives_the_eager_faces(detectors, faces):
    eager, graph = detectors
    img = faces[0]
    batch = [img, np.ascontiguousarray(np.rot90(img, 2))]  # same shape: no padding
    for a, b in zip(eager.detect_faces(batch, min_face_size=20), graph.detect_faces(batch, min_face_size=20)):
        _same(a, b)


def test_no_face_gives_nothing(detectors):
    _, graph = detectors
    assert graph.detect_faces(np.full((200, 300, 3), 240, np.uint8), min_face_size=20) == []


def test_an_empty_batch_ends_the_search_before_the_graph_runs(detectors):
    import tensorflow as tf

    _, graph = detectors
    for stage, side in ((graph.stages[1], 24), (graph.stages[2], 48)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="empty batch"):  # mtcnn reads it as "no faces"
            stage._model(tf.zeros((0, side, side, 3)))
