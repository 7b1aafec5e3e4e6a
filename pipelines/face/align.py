"""Align a detected face into the 150x150 chip the dlib ResNet expects: image + DetectedFace in, AlignedFace out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipelines.face.detect import DetectedFace
from veid.errors import StageError

#: Where MTCNN's five landmarks (left eye, right eye, nose, mouth left, mouth right) fall, on
#: average, in dlib's 150x150 chips with padding 0.25: measured by mapping MTCNN landmarks
#: through dlib's own chip transform on the 216 dev photos (std 1.2-3.3 px). Used only by
#: ``AlignMethod.MTCNN_5PT``.
MTCNN_CHIP_TEMPLATE_150 = np.asarray(
    [[46.73, 45.26], [101.07, 45.23], [73.50, 77.79], [46.84, 100.03], [101.34, 100.18]], dtype=np.float64
)


class AlignMethod(str, enum.Enum):
    """How the chip is cut.

    ``dlib_5pt``: dlib's 5-point shape predictor run inside the MTCNN box, then dlib's own
    ``get_face_chip`` (the alignment the ResNet was trained with; the default).
    ``mtcnn_5pt``: a similarity transform from MTCNN's five landmarks to
    :data:`MTCNN_CHIP_TEMPLATE_150` (no second landmark model).
    """

    DLIB_5PT = "dlib_5pt"
    MTCNN_5PT = "mtcnn_5pt"


@dataclass(frozen=True)
class AlignerConfig:
    """Alignment settings.

    Attributes:
        method: see :class:`AlignMethod`.
        chip_size: chip side in pixels (the dlib ResNet needs 150).
        padding: dlib chip padding, as a fraction of the face size.
    """

    method: AlignMethod = AlignMethod.DLIB_5PT
    chip_size: int = 150
    padding: float = 0.25


@dataclass(frozen=True)
class AlignedFace:
    """A face chip, ``(chip_size, chip_size, 3)`` RGB uint8, and the face it was cut from."""

    chip: np.ndarray
    face: DetectedFace
    method: AlignMethod


class FaceAligner:
    """``FaceAligner(cfg, shape5)(rgb, face) -> AlignedFace``; ``shape5`` is dlib's 5-point predictor."""

    def __init__(self, cfg: AlignerConfig, shape5: Any) -> None:
        if cfg.method is AlignMethod.MTCNN_5PT and cfg.chip_size != 150:
            raise ValueError("mtcnn_5pt alignment template is defined for 150 px chips only")
        self.cfg = cfg
        self._shape5 = shape5

    def __call__(self, image: np.ndarray, face: DetectedFace) -> AlignedFace:
        """Cut the chip of ``face`` out of the RGB ``image``.

        Raises:
            StageError: the landmarks are degenerate (no transform exists).
        """
        if self.cfg.method is AlignMethod.DLIB_5PT:
            import dlib

            b = face.box
            rect = dlib.rectangle(int(round(b.x0)), int(round(b.y0)), int(round(b.x1)), int(round(b.y1)))
            shape = self._shape5(image, rect)
            chip = dlib.get_face_chip(image, shape, size=self.cfg.chip_size, padding=self.cfg.padding)
        else:
            src = face.landmarks.to_array()
            matrix, _ = cv2.estimateAffinePartial2D(src, MTCNN_CHIP_TEMPLATE_150, method=cv2.LMEDS)
            if matrix is None:
                raise StageError("MTCNN landmarks are degenerate; cannot align the face")
            size = self.cfg.chip_size
            chip = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return AlignedFace(np.ascontiguousarray(chip), face, self.cfg.method)
