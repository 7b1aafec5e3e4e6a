"""Small custom Keras layers used by VEID's models (registered so saved models reload)."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="veid")
class CoordChannels(layers.Layer):
    """Append two channels holding each pixel's x and y position divided by ``scale``.

    Positions are absolute (pixel index / ``scale``), not relative to the tensor size, so
    zero-padding an input at the bottom/right does not move the coordinates of its content.
    This lets a fully-convolutional net use document layout (where a field sits on the card).
    """

    def __init__(self, scale: float = 384.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, x):
        shape = ops.shape(x)
        b, h, w = shape[0], shape[1], shape[2]
        ys = ops.cast(ops.arange(h), x.dtype) / self.scale
        xs = ops.cast(ops.arange(w), x.dtype) / self.scale
        yy = ops.broadcast_to(ops.reshape(ys, (1, -1, 1, 1)), (b, h, w, 1))
        xx = ops.broadcast_to(ops.reshape(xs, (1, 1, -1, 1)), (b, h, w, 1))
        return ops.concatenate([x, xx, yy], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="veid")
class GlobalContext(layers.Layer):
    """Add a learned projection of the global average of the features to every position.

    Gives the deepest UNET stage a whole-document view (which family, which layout)
    at negligible cost.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.dense = layers.Dense(self.units, activation="relu", name="proj")

    def build(self, input_shape):
        self.dense.build((input_shape[0], input_shape[-1]))
        super().build(input_shape)

    def call(self, x):
        g = self.dense(ops.mean(x, axis=(1, 2)))
        return x + ops.reshape(g, (-1, 1, 1, self.units))

    def get_config(self):
        return {**super().get_config(), "units": self.units}
