"""Value types shared between stages: boxes, quadrilaterals, fields, document families, checks.

Coordinate convention (stated once, used everywhere): pixel coordinates in the image the
object refers to, origin at the top-left corner, x to the right, y downwards, floats.
A :class:`Box` is axis-aligned with ``x0 <= x1`` and ``y0 <= y1`` (``x1``/``y1`` exclusive).
A :class:`Quad` lists four corners clockwise starting at the top-left corner of the
content as read upright (top-left, top-right, bottom-right, bottom-left).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class Field(str, enum.Enum):
    """The four key fields that the document models segment and the pipeline reads."""

    ID_NUMBER = "id_number"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    DATE_OF_BIRTH = "date_of_birth"


#: Segmentation class index of each key field (0 is background).
FIELD_CLASS = {f: i + 1 for i, f in enumerate(Field)}


class DocumentFamily(str, enum.Enum):
    """Document families VEID generates and reads."""

    ID_CARD_TD1 = "id_card_td1"
    PASSPORT_TD3 = "passport_td3"
    DRIVER_LICENSE_AAMVA = "driver_license_aamva"


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixels: ``x0, y0`` top-left, ``x1, y1`` bottom-right (exclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"Box corners out of order: {self}")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)

    def iou(self, other: "Box") -> float:
        """Intersection over union with ``other`` (0 when disjoint)."""
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def union(self, other: "Box") -> "Box":
        """Smallest box holding both."""
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def expand(self, dx: float, dy: float) -> "Box":
        """Grow by ``dx`` pixels left and right and ``dy`` pixels up and down."""
        return Box(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)

    def clip(self, width: float, height: float) -> "Box":
        """Clip to an image of ``width`` x ``height`` pixels."""
        return Box(
            min(max(self.x0, 0.0), width), min(max(self.y0, 0.0), height),
            min(max(self.x1, 0.0), width), min(max(self.y1, 0.0), height),
        )

    def to_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True)
class Quad:
    """Four corners in pixels, clockwise from the top-left of the upright content."""

    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

    @classmethod
    def from_array(cls, arr: np.ndarray | list) -> "Quad":
        a = np.asarray(arr, dtype=float).reshape(4, 2)
        return cls(tuple((float(x), float(y)) for x, y in a))  # type: ignore[arg-type]

    @classmethod
    def from_box(cls, box: Box) -> "Quad":
        return cls(((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)))

    def to_array(self) -> np.ndarray:
        """Corners as a ``(4, 2)`` float array."""
        return np.asarray(self.points, dtype=float)

    def bounds(self) -> Box:
        """Axis-aligned bounding box."""
        a = self.to_array()
        return Box(float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max()))

    def transform(self, matrix: np.ndarray) -> "Quad":
        """Apply a 2x3 affine or 3x3 homography to the corners."""
        a = self.to_array()
        m = np.asarray(matrix, dtype=float)
        pts = np.hstack([a, np.ones((4, 1))]) @ (m.T if m.shape == (3, 3) else np.vstack([m, [0, 0, 1]]).T)
        pts = pts[:, :2] / pts[:, 2:3]
        return Quad.from_array(pts)

    def to_list(self) -> list[list[float]]:
        return [list(p) for p in self.points]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: a failed check is a result with a reason, not an exception.

    Attributes:
        name: stable identifier, for example ``"mrz.check_digits"``.
        passed: whether the check passed.
        score: confidence in ``[0, 1]`` that the property holds (1.0 for a hard pass).
        reason: human-readable explanation; never contains personal data.
    """

    name: str
    passed: bool
    score: float = 1.0
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"CheckResult.score must lie in [0, 1], got {self.score}")


@dataclass(frozen=True)
class ModelVersion:
    """A model's identity as recorded in results and attestations."""

    name: str
    sha256: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)
