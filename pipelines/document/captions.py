"""Which field a value line holds, from the caption printed above it, by a small CNN.

Tesseract reads most captions (``labels.py``), but not all: on driver licences the caption is a few
pixels of light ink ("1", "2", "LN", "FN", "FIRST NAME" 6 pixels high under glare), and whether a name
line is the first or the last name is written there alone. A person still reads such a caption by its
shape; so does this classifier, trained on the value lines of the ``generate`` stage's training-split
captures (``training/train_captions.py``, DVC stage ``train_captions``). It sees only the strip above
the line's text (:func:`caption_box`: one text height high, from just left of the line's start), never
the value itself: shown the value too, a first version named lines by the names printed in them (the
generator's surnames), and called every caption over "MORGAN" a last name. It names one of
:data:`CLASSES`, and is asked only where no reading of the caption named a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipelines.document.ink import stretch_contrast, text_rows
from pipelines.document.numpy_cnn import conv3x3_relu, max_pool2, read_classifier, save_classifier, softmax
from veid.types import Box, Field

#: Output classes, in the classifier's order: any other line, then the four key fields.
CLASSES = ("other", Field.LAST_NAME.value, Field.FIRST_NAME.value, Field.DATE_OF_BIRTH.value, Field.ID_NUMBER.value)
#: ``(height, width)`` of the strip the classifier sees, pixels.
INPUT_SHAPE = (24, 160)
#: The strip over a text line ``th`` high: from ``ABOVE`` th above the text's top to ``BELOW`` th below it
#: (negative: it ends above the text, so no letter of the value shows), starting ``LEFT`` th left of the
#: line; its width follows from :data:`INPUT_SHAPE` (undistorted).
ABOVE, BELOW, LEFT = 1.1, -0.1, 0.3


def text_extent(gray_line: np.ndarray) -> tuple[int, int] | None:
    """Rows ``(top, bottom)`` of the text in a crop of its line box (boxes are grown by margins that differ
    between word detectors; the text's own rows do not), ``None`` when the crop holds no ink."""
    return text_rows(stretch_contrast(gray_line))


def caption_box(line: Box, rows: tuple[int, int] | None) -> Box:
    """The region (image pixels) the classifier sees for the value line ``line``: the strip above its text,
    whose rows within the line's box are ``rows`` (the whole box when ``None``)."""
    top, th = (line.y0 + rows[0], rows[1] - rows[0]) if rows else (line.y0, line.height)
    th = max(th, 1.0)
    height = (ABOVE + BELOW) * th
    x0 = line.x0 - LEFT * th
    return Box(x0, top - ABOVE * th, x0 + height * INPUT_SHAPE[1] / INPUT_SHAPE[0], top + BELOW * th)


def normalize(gray: np.ndarray, min_contrast: float = 24.0) -> np.ndarray:
    """A grey strip (any size) as classifier input: contrast-stretched unless its grey levels span less than
    ``min_contrast`` (blank paper stays blank rather than noise stretched to black and white), scaled to
    :data:`INPUT_SHAPE`, float32 in [0, 1] with ink high."""
    lo, hi = np.percentile(gray, (2.0, 98.0))
    ready = stretch_contrast(gray) if hi - lo >= min_contrast else gray
    small = cv2.resize(ready, INPUT_SHAPE[::-1], interpolation=cv2.INTER_AREA)
    return 1.0 - small.astype(np.float32) / 255.0


def warp_box(gray: np.ndarray, box: Box) -> np.ndarray:
    """``box`` of a grey image cut out at its own scale, the border replicated where it leaves the image."""
    w_out, h_out = max(4, round(box.width)), max(2, round(box.height))
    m = np.array([[w_out / max(box.width, 1e-6), 0.0, 0.0], [0.0, h_out / max(box.height, 1e-6), 0.0]], np.float32)
    m[0, 2], m[1, 2] = -box.x0 * m[0, 0], -box.y0 * m[1, 1]
    return cv2.warpAffine(gray, m, (w_out, h_out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def strip_input(image: np.ndarray, line: Box) -> np.ndarray:
    """The classifier input for the value line ``line`` of the RGB (or grey) page ``image``."""
    gray = _gray(image)
    return normalize(warp_box(gray, _caption_box(gray, line)))


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _caption_box(gray: np.ndarray, line: Box) -> Box:
    return caption_box(line, text_extent(warp_box(gray, line)))


def on_page(box: Box, shape: tuple[int, ...]) -> float:
    """Share of ``box``'s area inside an image of ``shape`` (rows, columns, ...)."""
    inside = box.clip(shape[1], shape[0])
    return inside.area / box.area if box.area > 0 else 0.0


@dataclass(frozen=True)
class CaptionModel:
    """Three 3x3 convolutions with pooling and one hidden dense layer; weights trained by ``train_captions``
    in Keras and run here in NumPy."""

    k1: np.ndarray
    c1: np.ndarray
    k2: np.ndarray
    c2: np.ndarray
    k3: np.ndarray
    c3: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    KEYS = ("k1", "c1", "k2", "c2", "k3", "c3", "w1", "b1", "w2", "b2")

    @classmethod
    def load(cls, path: str | Path) -> "CaptionModel":
        """Read the ``.npz`` written by :meth:`save`.

        Raises:
            ModelError: the file is missing or not this model.
        """
        return cls(*read_classifier(path, cls.KEYS, "caption model", CLASSES, "input_shape", INPUT_SHAPE))

    def save(self, path: str | Path) -> None:
        """Write the weights (``.npz``, no pickled objects)."""
        save_classifier(path, self, self.KEYS, CLASSES, "input_shape", INPUT_SHAPE)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, len(CLASSES))`` of strips ``(N, *INPUT_SHAPE)`` from :func:`strip_input`."""
        h = x.reshape(x.shape[0], *INPUT_SHAPE, 1).astype(np.float32)
        for k, c in ((self.k1, self.c1), (self.k2, self.c2), (self.k3, self.c3)):
            h = max_pool2(conv3x3_relu(h, k, c))
        return softmax(np.maximum(h.reshape(h.shape[0], -1) @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2)


@dataclass(frozen=True)
class CaptionConfig:
    """Caption classifier (``params.yaml`` section ``document_captions``).

    Attributes:
        enabled: ask the classifier where no reading of a caption named a field.
        model: the trained weights (``train_captions`` stage output).
        min_probability: the class it gives at least this probability decides; below, nothing does.
        decide_other: it may also decide that a line holds none of the key fields (which takes the line from
            the field the UNET painted on it); off, only its key-field answers count.
        min_on_page: least share of the strip that must lie on the page: a strip running off the page's edge
            (a short value in the rightmost column) is padded with repeated border pixels, which the
            classifier never saw in training and answered with confident nonsense.
        min_aspect: a line narrower than this many times its height (one letter: a passport's type ``P``,
            a sex ``F``) is named no key field by the classifier; no name, date or number is that short.
    """

    enabled: bool = True
    model: str = "models/weights/captions.npz"
    min_probability: float = 0.9
    decide_other: bool = False
    min_on_page: float = 0.9
    min_aspect: float = 0.8


class CaptionReader:
    """``(page, value line) -> (class name, probability)``: the field (or ``"other"``) the caption above the
    line announces, ``None`` below ``min_probability``."""

    def __init__(self, model: CaptionModel, cfg: CaptionConfig | None = None) -> None:
        self.model, self.cfg = model, cfg or CaptionConfig()

    def __call__(self, image: np.ndarray, line: Box) -> tuple[str | None, float]:
        gray = _gray(image)
        box = _caption_box(gray, line)
        if on_page(box, image.shape) < self.cfg.min_on_page:
            return None, 0.0
        p = self.model.predict_proba(normalize(warp_box(gray, box))[None])[0]
        k = int(p.argmax())
        field_ok = line.width >= self.cfg.min_aspect * line.height
        decides = p[k] >= self.cfg.min_probability and (field_ok if k > 0 else self.cfg.decide_other)
        return (CLASSES[k] if decides else None), float(p[k])
