"""CRAFT text detector (Baek et al. 2019) in Keras 3: image -> half-resolution region/affinity maps.

Backbone choice: ImageNet weights cannot be downloaded here, so the network trains from
scratch, on a CPU, in minutes. A full VGG-16 (the paper's backbone, ~15 GFLOP at 768 px)
would need a GPU and pre-training to converge in that budget. We keep the *shape* of the
paper's network -- a VGG-style encoder of plain 3x3 conv + batch-norm + ReLU stages, each
halving the resolution, and a U-shaped decoder that upsamples and concatenates the skip
features back to half resolution -- but with slim widths (16..128 channels, 0.64 M
parameters, ~2.6 GMAC at 768x512). Plain 3x3 convolutions are used rather than MobileNet
depthwise blocks because at these narrow widths oneDNN runs dense 3x3 convs about as fast,
and they converge faster from scratch. Batch-norm makes training from scratch stable.
Synthetic documents use a handful of fonts on clean backgrounds, so this capacity suffices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from veid.errors import InputError
from veid.types import ModelVersion


@dataclass(frozen=True)
class CraftConfig:
    """Architecture of the CRAFT network (mirrors ``params.yaml: craft.model``).

    Attributes:
        widths: channels of each encoder stage; stage ``i`` runs at 1/2**(i+1) resolution.
        convs_per_stage: 3x3 convolutions per encoder stage after its stride-2 entry conv.
        decoder_widths: channels of each decoder step, from the deepest skip to half resolution
            (``len(widths) - 1`` entries).
        head_width: channels of the last 3x3 conv before the two-map 1x1 output.
    """

    widths: tuple[int, ...] = (16, 32, 64, 96, 128)
    convs_per_stage: int = 1
    decoder_widths: tuple[int, ...] = (96, 64, 32, 16)
    head_width: int = 16

    def __post_init__(self) -> None:
        if len(self.decoder_widths) != len(self.widths) - 1:
            raise ValueError("decoder_widths needs len(widths) - 1 entries")

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this (pixels)."""
        return 2 ** len(self.widths)


#: A configuration small enough for unit tests (builds and runs in well under a second).
TINY_CRAFT = CraftConfig(widths=(4, 8, 8), convs_per_stage=1, decoder_widths=(8, 4), head_width=4)


@dataclass(frozen=True)
class CraftMaps:
    """CRAFT's output for one image.

    Attributes:
        region: float32 ``(h, w)`` in [0, 1], character-centre score at half the resized
            resolution (the detector resizes the image so that its long side is ``long_side``).
        affinity: float32 ``(h, w)`` in [0, 1], score of the space between adjacent characters.
        scale: input-image pixels per map pixel (x and y share it), used to map boxes back.
        image_size: ``(width, height)`` of the input image in pixels.
    """

    region: np.ndarray
    affinity: np.ndarray
    scale: float = 2.0
    image_size: tuple[int, int] = (0, 0)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.region.shape[:2])  # type: ignore[return-value]


def build_craft(cfg: CraftConfig = CraftConfig()):
    """Build the CRAFT Keras model.

    The model takes ``(B, H, W, 3)`` float RGB in [0, 255] (H, W multiples of
    ``cfg.stride``) and returns ``(B, H/2, W/2, 2)`` sigmoid scores: channel 0 region,
    channel 1 affinity. ``model.get_config()`` round-trips through ``keras.Model.from_config``.
    """
    import keras
    from keras import layers

    def conv_bn(x, width: int, stride: int = 1, name: str = ""):
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input((None, None, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize")(inputs)
    skips = []
    for s, width in enumerate(cfg.widths):
        x = conv_bn(x, width, stride=2, name=f"enc{s}_down")
        for k in range(cfg.convs_per_stage):
            x = conv_bn(x, width, name=f"enc{s}_{k}")
        skips.append(x)
    # U-shaped decoder: upsample, concatenate the next-shallower skip, 1x1 squeeze then 3x3.
    for d, width in enumerate(cfg.decoder_widths):
        skip = skips[-2 - d]
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{d}_up")(x)
        x = layers.Concatenate(name=f"dec{d}_cat")([x, skip])
        x = layers.Conv2D(width, 1, use_bias=False, name=f"dec{d}_squeeze")(x)
        x = layers.BatchNormalization(name=f"dec{d}_sq_bn")(x)
        x = layers.ReLU(name=f"dec{d}_sq_relu")(x)
        x = conv_bn(x, width, name=f"dec{d}")
    x = conv_bn(x, cfg.head_width, name="head")
    outputs = layers.Conv2D(2, 1, activation="sigmoid", name="maps")(x)
    return keras.Model(inputs, outputs, name="craft")


def resize_long_side(image: np.ndarray, long_side: int, interpolation: int | None = None) -> tuple[np.ndarray, float]:
    """Resize so that the longer side is ``long_side`` pixels; returns ``(image, factor)``.

    ``factor`` is new pixels per old pixel.
    """
    import cv2

    h, w = image.shape[:2]
    factor = long_side / float(max(h, w))
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    interp = interpolation if interpolation is not None else (cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    return cv2.resize(image, (nw, nh), interpolation=interp), factor


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Zero-pad at the bottom and right so both sides are multiples of ``multiple``."""
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return image
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, pad)


def check_rgb(image_rgb: np.ndarray) -> np.ndarray:
    """Validate an ``HxWx3`` uint8 RGB image (raises :class:`InputError`)."""
    if not isinstance(image_rgb, np.ndarray) or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise InputError(f"expected an HxWx3 RGB image, got {getattr(image_rgb, 'shape', type(image_rgb))}")
    if image_rgb.dtype != np.uint8:
        raise InputError(f"expected a uint8 image, got {image_rgb.dtype}")
    if min(image_rgb.shape[:2]) < 8:
        raise InputError(f"image too small: {image_rgb.shape[1]}x{image_rgb.shape[0]} px")
    return image_rgb


def run_compiled(model, batch: np.ndarray, graphs: dict) -> np.ndarray:
    """Run ``model`` on ``batch`` through a graph compiled for exactly this input shape.

    About 4x faster than eager calls on CPU. One graph per shape (static signature: the
    bilinear upsampling layers need known sizes); inputs are padded to multiples of the
    stride at a fixed long side, so only a few shapes occur. ``graphs`` is the caller's cache.
    """
    key = tuple(batch.shape)
    fn = graphs.get(key)
    if fn is None:
        import tensorflow as tf

        fn = tf.function(lambda t: model(t, training=False), input_signature=[tf.TensorSpec(key, tf.float32)])
        graphs[key] = fn
    return np.asarray(fn(batch.astype(np.float32, copy=False)))


@dataclass
class CraftDetector:
    """Callable wrapper: RGB document image -> :class:`CraftMaps` at half the working resolution.

    Args:
        model: the Keras model from :func:`build_craft` (or loaded from a ``.keras`` file).
        version: name and content hash of the weights, recorded in results.
        long_side: working resolution: the image is resized so its long side has this many
            pixels (768 by default, the resolution the shipped model was trained at).
    """

    model: object
    version: ModelVersion = field(default_factory=lambda: ModelVersion("craft-untrained", ""))
    long_side: int = 768
    _graphs: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def stride(self) -> int:
        """Multiple the working image is padded to (from the model's depth)."""
        n_down = sum(1 for layer in self.model.layers if layer.name.endswith("_down_conv"))
        return 2 ** max(n_down, 1)

    def predict(self, image_rgb: np.ndarray) -> CraftMaps:
        """Region and affinity maps of one ``HxWx3`` uint8 RGB image."""
        check_rgb(image_rgb)
        h, w = image_rgb.shape[:2]
        resized, factor = resize_long_side(image_rgb, self.long_side)
        rh, rw = resized.shape[:2]
        batch = pad_to_multiple(resized, self.stride)[None].astype(np.float32)
        out = run_compiled(self.model, batch, self._graphs)[0]
        mh, mw = (rh + 1) // 2, (rw + 1) // 2
        out = out[:mh, :mw]
        return CraftMaps(
            region=np.ascontiguousarray(out[..., 0], dtype=np.float32),
            affinity=np.ascontiguousarray(out[..., 1], dtype=np.float32),
            scale=2.0 / factor,
            image_size=(w, h),
        )

    __call__ = predict
