"""Seeded batch streams for Keras training: each batch is built from its epoch and index alone."""

from __future__ import annotations

from collections.abc import Callable


def seeded_batches(steps: int, make_batch: Callable[[int, int], tuple], workers: int = 1):
    """A Keras ``PyDataset`` of ``steps`` batches per epoch, batch ``idx`` of epoch ``e`` being
    ``make_batch(e, idx)``. ``workers`` threads build batches while TensorFlow trains; as a
    batch depends only on ``(e, idx)``, the stream does not depend on their scheduling."""
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(workers=workers, use_multiprocessing=False)
            self.epoch = 0

        def __len__(self) -> int:
            return steps

        def on_epoch_end(self) -> None:
            self.epoch += 1

        def __getitem__(self, idx: int):
            return make_batch(self.epoch, idx)

    return Batches()
