"""MTCNN with its three networks run as compiled TensorFlow graphs: same weights, same outputs, less overhead.

``mtcnn`` 1.0.0 calls its Keras networks eagerly: every layer of PNet runs as a separate eager op at
every pyramid level, and on 2 cores that dispatch overhead costs about as much as the convolutions
(a 4-rotation orientation batch at 480 px: 334 ms eager, 208 ms as graphs; a small selfie mostly
overhead). :func:`graph_mtcnn` builds an ``mtcnn.MTCNN`` whose stages call each network through a
``tf.function`` with a fixed input signature (any batch; PNet any image size), so each network is
traced once, on the first call, and never again whatever the image sizes. Boxes, landmarks and
confidences equal the eager ones (checked in ``tests/pipelines/face/test_face_detect_graph.py``).
"""

from __future__ import annotations

from typing import Any

from veid.errors import ModelError

#: input shape of each network (batch, height, width, channels); ``None`` is any size.
_SIGNATURES = {"pnet": (None, None, None, 3), "rnet": (None, 24, 24, 3), "onet": (None, 48, 48, 3)}


def _compiled(model: Any, shape: tuple[int | None, ...]) -> Any:
    """``model`` as a graph; an empty batch (no candidate left for RNet or ONet) raises before the graph runs.

    ``mtcnn`` ends a search that found no candidate by letting the next network fail on the empty batch
    (it catches ``InvalidArgumentError`` as "no faces found"). Inside a graph that failure also makes
    TensorFlow's runtime log an aborted rendezvous on stderr for every image without a face, so the same
    error is raised here, in Python, without running the graph.
    """
    import tensorflow as tf

    graph = tf.function(model, input_signature=[tf.TensorSpec(shape, tf.float32)])

    def call(batch: Any) -> Any:
        if batch.shape[0] == 0:
            raise tf.errors.InvalidArgumentError(None, None, "no candidate boxes: empty batch")
        return graph(batch)

    return call


def graph_mtcnn() -> Any:
    """A new ``mtcnn.MTCNN`` (boxes and five landmarks; weights from the installed wheel) whose networks run as graphs.

    Raises:
        ModelError: ``mtcnn`` (with TensorFlow) is not installed.
    """
    try:
        from mtcnn import MTCNN
        from mtcnn.stages import StageONet, StagePNet, StageRNet
    except ImportError as exc:
        raise ModelError(f"mtcnn is not installed: {exc}") from exc

    class GraphPNet(StagePNet):
        def __init__(self) -> None:
            super().__init__()
            self._model = _compiled(self._model, _SIGNATURES["pnet"])

    class GraphRNet(StageRNet):
        def __init__(self) -> None:
            super().__init__()
            self._model = _compiled(self._model, _SIGNATURES["rnet"])

    class GraphONet(StageONet):
        def __init__(self) -> None:
            super().__init__()
            self._model = _compiled(self._model, _SIGNATURES["onet"])

    return MTCNN(stages=[GraphPNet(), GraphRNet(), GraphONet()])
