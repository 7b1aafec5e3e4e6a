"""Figures logged to MLflow for the document models: predictions overlaid, masks, precision/recall."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.craft import CraftMaps
from veid.types import Field, Quad

#: RGB colour per field class (0 background is transparent).
CLASS_COLOURS = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48]], np.float32)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw_quads(ax, quads: Sequence[Quad], scale: float = 1.0, colour: str = "lime") -> None:
    for q in quads:
        a = q.to_array() / scale
        ax.plot(np.r_[a[:, 0], a[0, 0]], np.r_[a[:, 1], a[0, 1]], color=colour, linewidth=0.8)


def craft_sample_figure(image: np.ndarray, maps: CraftMaps, quads: Sequence[Quad]):
    """Image with decoded word boxes, and the region and affinity maps overlaid on it."""
    import cv2

    plt = _plt()
    h, w = maps.shape
    small = cv2.resize(np.asarray(image)[: int(h * maps.scale), : int(w * maps.scale)], (w, h))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].imshow(image[: int(h * maps.scale), : int(w * maps.scale)])
    _draw_quads(axes[0], quads)
    axes[0].set_title(f"word boxes ({len(quads)})")
    for ax, m, name in ((axes[1], maps.region, "region"), (axes[2], maps.affinity, "affinity")):
        ax.imshow(small)
        ax.imshow(m, cmap="jet", alpha=0.55, vmin=0, vmax=1)
        ax.set_title(name)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def mask_overlay(image_small: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Blend a class-index mask into an image of the same grid (uint8 RGB out)."""
    colour = CLASS_COLOURS[classes]
    alpha = (classes > 0)[..., None] * 0.6
    return (image_small * (1 - alpha) + colour * alpha).astype(np.uint8)


def unet_sample_figure(image_small: np.ndarray, probs: np.ndarray, truth: np.ndarray):
    """Predicted vs true field masks on the (half-resolution) image (label classes not shown)."""
    plt = _plt()
    truth = np.where(truth <= len(Field), truth, 0)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    axes[0].imshow(mask_overlay(image_small, probs.argmax(-1)))
    axes[0].set_title("predicted fields")
    axes[1].imshow(mask_overlay(image_small, truth))
    axes[1].set_title("true fields")
    for ax in axes:
        ax.axis("off")
    labels = ", ".join(f"{f.value}={c}" for f, c in zip(Field, ("red", "green", "blue", "orange")))
    fig.suptitle(labels, fontsize=8)
    fig.tight_layout()
    return fig


def pr_figure(curves: dict[str, tuple[Sequence[float], Sequence[float]]], title: str):
    """Precision (y) against recall (x), one line per named curve, in percent."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (recall, precision) in curves.items():
        ax.plot(recall, precision, marker=".", label=name)
    ax.set_xlabel("recall (%)")
    ax.set_ylabel("precision (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def confusion_figure(confusion: Sequence[Sequence[int]], classes: Sequence[str], title: str,
                     xlabel: str = "read", ylabel: str = "printed"):
    """A confusion matrix (rows: truth, columns: the class given), log-scaled shading, counts in the cells."""
    plt = _plt()
    m = np.asarray(confusion)
    size = 0.55 * len(classes) + 1.0
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    ax.imshow(np.log1p(m), cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=50, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig
