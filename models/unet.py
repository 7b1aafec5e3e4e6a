"""UNET field segmenter: CRAFT maps (+ the image) -> per-pixel probabilities of the four key fields.

Input: CRAFT's region and affinity maps at half resolution, optionally the image (resized
to the same grid, or at full resolution with each 2x2 pixel block folded into 12 channels),
plus two absolute-position channels (document layout decides which text
line is the surname and which the given names). Output: softmax over 5 classes, channel 0
background and channels 1..4 the fields in :data:`veid.types.FIELD_CLASS` order; a model
trained with ``label_classes`` has 4 more channels (5..8: each field's printed label),
which :meth:`FieldSegmenter.predict` folds into the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.craft import CraftMaps, pad_to_multiple, run_compiled
from veid.errors import InputError
from veid.types import FIELD_CLASS, ModelVersion

N_CLASSES = 1 + len(FIELD_CLASS)
#: Extra output channels of ``label_classes`` models: the printed label of each field.
N_LABEL_CLASSES = len(FIELD_CLASS)


@dataclass(frozen=True)
class UnetConfig:
    """Architecture of the field UNET (mirrors ``params.yaml: unet.model``).

    Attributes:
        widths: channels per encoder stage; stage 0 runs at the input (half) resolution,
            each further stage halves it.
        convs_per_stage: 3x3 convolutions per stage after the entry conv.
        use_image: also feed the RGB image (resized to the map grid) next to the maps.
        coord_scale: the position channels hold pixel index / coord_scale (map pixels);
            384 = the map long side of a 768-px document.
        input_pool: the encoder/decoder run on the input average-pooled by this factor
            (2: a quarter of the pixels, so about 4x cheaper to train and run); their
            output is upsampled back and refined by one convolution that also sees the
            full-resolution maps and image, so mask edges follow the text again. Which
            line is which field is a layout question that the coarse grid answers well.
        image_detail: feed the image at full resolution, each 2x2 pixel block folded into
            12 channels of one map pixel (lossless "pixel unshuffle"), instead of averaged
            down to the map grid. At half resolution the small printed labels are a blur,
            so "Date of birth" and "Date of expiry" look alike and only the layout tells
            the dates apart; at full resolution they (and the year's digits) are legible.
        stem_width: channels of a 3x3 convolution run on the map grid before anything is
            pooled (0: none). With ``input_pool > 1`` the pooling becomes a learned,
            strided convolution too, so the detail reaches the encoder as features
            rather than being averaged away. The refinement sees the stem's features.
        label_classes: also segment each field's printed label ("Surname / Nom", "3 DOB")
            as 4 auxiliary classes. Which name line is the surname is written in the label
            above it; supervising the labels themselves makes the network learn to read
            them instead of memorising the training documents' layouts and names.
    """

    widths: tuple[int, ...] = (8, 16, 32, 48, 64)
    convs_per_stage: int = 1
    use_image: bool = True
    coord_scale: float = 384.0
    input_pool: int = 1
    image_detail: bool = False
    stem_width: int = 0
    label_classes: bool = False

    def __post_init__(self) -> None:
        if self.image_detail and not self.use_image:
            raise ValueError("unet.model.image_detail needs use_image: true")

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this (map pixels)."""
        return self.input_pool * 2 ** (len(self.widths) - 1)

    @property
    def in_channels(self) -> int:
        return 2 + image_channels(self.use_image, self.image_detail)

    @property
    def out_channels(self) -> int:
        return N_CLASSES + (N_LABEL_CLASSES if self.label_classes else 0)


def image_channels(use_image: bool, image_detail: bool) -> int:
    """Image channels of the UNET input: none, RGB on the map grid, or RGB 2x2 blocks folded."""
    return 0 if not use_image else 12 if image_detail else 3


TINY_UNET = UnetConfig(widths=(4, 8, 8), convs_per_stage=1, use_image=True, coord_scale=32.0)


def build_unet(cfg: UnetConfig = UnetConfig()):
    """Build the UNET Keras model.

    Input ``(B, h, w, cfg.in_channels)``: region, affinity in [0, 1] and, with ``use_image``,
    RGB in [0, 255] (3 channels, or 12 with ``image_detail``: see :func:`fold_pixels`);
    ``h, w`` multiples of ``cfg.stride``. Output ``(B, h, w, cfg.out_channels)`` softmax.
    """
    import keras
    from keras import layers

    from models.layers import CoordChannels, GlobalContext

    def conv_bn(x, width: int, stride: int = 1, name: str = ""):
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input((None, None, cfg.in_channels), name="maps_image")
    # Maps are in [0, 1]; bring the image channels to [-1, 1] as well (mask is constant).
    scale = np.array([1.0, 1.0] + [1 / 127.5] * (cfg.in_channels - 2), dtype="float32")
    offset = np.array([0.0, 0.0] + [-1.0] * (cfg.in_channels - 2), dtype="float32")
    x = full = layers.Rescaling(scale.tolist(), offset=offset.tolist(), name="normalize")(inputs)
    if cfg.stem_width:
        x = full = conv_bn(x, cfg.stem_width, name="stem")
    if cfg.input_pool > 1 and cfg.stem_width:
        x = conv_bn(x, cfg.stem_width, stride=cfg.input_pool, name="stem_pool")
    elif cfg.input_pool > 1:
        x = layers.AveragePooling2D(cfg.input_pool, name="input_pool")(x)
    x = CoordChannels(cfg.coord_scale / cfg.input_pool, name="coords")(x)
    skips = []
    for s, width in enumerate(cfg.widths):
        x = conv_bn(x, width, stride=1 if s == 0 else 2, name=f"enc{s}_in")
        for k in range(cfg.convs_per_stage):
            x = conv_bn(x, width, name=f"enc{s}_{k}")
        skips.append(x)
    x = GlobalContext(cfg.widths[-1], name="context")(x)
    for d in range(len(cfg.widths) - 1):
        skip = skips[-2 - d]
        width = cfg.widths[-2 - d]
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{d}_up")(x)
        x = layers.Concatenate(name=f"dec{d}_cat")([x, skip])
        x = conv_bn(x, width, name=f"dec{d}")
    if cfg.input_pool > 1:
        x = layers.UpSampling2D(cfg.input_pool, interpolation="bilinear", name="refine_up")(x)
        x = layers.Concatenate(name="refine_cat")([x, full])
        x = conv_bn(x, cfg.widths[0], name="refine")
    outputs = layers.Conv2D(cfg.out_channels, 1, activation="softmax", name="fields")(x)
    return keras.Model(inputs, outputs, name="field_unet")


def fold_label_classes(probs: np.ndarray) -> np.ndarray:
    """``(..., 5 + k)`` probabilities -> ``(..., 5)``: auxiliary label classes count as background."""
    if probs.shape[-1] == N_CLASSES:
        return probs
    out = probs[..., :N_CLASSES].copy()
    out[..., 0] += probs[..., N_CLASSES:].sum(axis=-1)
    return out


def fold_pixels(image: np.ndarray) -> np.ndarray:
    """``(..., 2h, 2w, C)`` -> ``(..., h, w, 4C)``: each 2x2 pixel block becomes one pixel's channels."""
    *lead, h2, w2, c = image.shape
    h, w = h2 // 2, w2 // 2
    x = image.reshape(*lead, h, 2, w, 2, c)
    x = np.moveaxis(x, -4, -3)  # (..., h, w, 2, 2, c): row offset, column offset, channel
    return x.reshape(*lead, h, w, 4 * c)


def image_planes(image_rgb: np.ndarray, h: int, w: int, image_detail: bool) -> np.ndarray:
    """The image as UNET input channels on an ``h x w`` map grid (uint8)."""
    import cv2

    if not image_detail:
        return cv2.resize(image_rgb, (w, h), interpolation=cv2.INTER_AREA)
    if image_rgb.shape[:2] != (2 * h, 2 * w):  # CRAFT pads odd sides; other sizes are resampled
        hh, ww = image_rgb.shape[:2]
        if hh <= 2 * h and ww <= 2 * w and max(2 * h - hh, 2 * w - ww) <= 1:
            image_rgb = cv2.copyMakeBorder(image_rgb, 0, 2 * h - hh, 0, 2 * w - ww, cv2.BORDER_REPLICATE)
        else:
            image_rgb = cv2.resize(image_rgb, (2 * w, 2 * h), interpolation=cv2.INTER_AREA)
    return fold_pixels(image_rgb)


def unet_input(maps: CraftMaps, image_rgb: np.ndarray | None, use_image: bool, image_detail: bool = False) -> np.ndarray:
    """Stack the UNET input ``(h, w, C)`` float32 from maps and the image (see :class:`UnetConfig`)."""
    h, w = maps.shape
    planes = [maps.region[..., None], maps.affinity[..., None]]
    if use_image:
        if image_rgb is None:
            raise InputError("this field model was trained with the image as input: pass image_rgb")
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise InputError(f"expected an HxWx3 RGB image, got shape {image_rgb.shape}")
        planes.append(image_planes(image_rgb, h, w, image_detail).astype(np.float32))
    return np.concatenate(planes, axis=-1).astype(np.float32)


@dataclass
class FieldSegmenter:
    """Callable wrapper: :class:`CraftMaps` (+ image) -> ``(h, w, 5)`` field probabilities.

    Args:
        model: the Keras model from :func:`build_unet` (or loaded from a ``.keras`` file).
        version: name and content hash of the weights.
        use_image: whether the model takes the image (must match how it was built).

    Whether the image goes in folded at full resolution (``image_detail``) follows from
    the model's input channel count.
    """

    model: object
    version: ModelVersion = field(default_factory=lambda: ModelVersion("unet-untrained", ""))
    use_image: bool = True
    _graphs: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def stride(self) -> int:
        n_down = sum(1 for layer in self.model.layers if layer.name.endswith("_in_conv")) - 1
        pool = next((layer.pool_size[0] for layer in self.model.layers if layer.name == "input_pool"), None)
        if pool is None:
            pool = next((layer.strides[0] for layer in self.model.layers if layer.name == "stem_pool_conv"), 1)
        return pool * 2 ** max(n_down, 0)

    @property
    def image_detail(self) -> bool:
        """True when the model takes the full-resolution image folded into 12 channels."""
        return self.model.inputs[0].shape[-1] == 2 + image_channels(True, True)

    def predict(self, maps: CraftMaps, image_rgb: np.ndarray | None = None) -> np.ndarray:
        """Per-pixel class probabilities on the maps' grid (same ``h, w`` as ``maps.region``).

        Args:
            maps: CRAFT output for the document image.
            image_rgb: the same ``HxWx3`` uint8 RGB image given to CRAFT (required when
                the model uses the image).

        Returns:
            float32 ``(h, w, 5)``; channel 0 background, channel ``FIELD_CLASS[f]`` field ``f``.
        """
        h, w = maps.shape
        x = pad_to_multiple(unet_input(maps, image_rgb, self.use_image, self.image_detail), self.stride)
        out = run_compiled(self.model, x[None], self._graphs)[0]
        return np.ascontiguousarray(fold_label_classes(np.asarray(out[:h, :w])), dtype=np.float32)

    __call__ = predict
