"""The second training phase shared by CRAFT and the field UNET: from weights trained on flat
renders, continue on flat renders and on camera captures seen through their homographies."""

from __future__ import annotations

from dataclasses import dataclass

from training.augment import GeometricConfig


@dataclass(frozen=True)
class FinetuneConfig:
    """``params.yaml: <model>.finetune``: a second phase on the pages the pipeline sees.

    Trained from the start on captures and moved documents, the UNET learned far more slowly
    (validation mIoU 0.31 after 13 of 24 epochs), so each model first learns on flat renders;
    this phase starts from those weights with a fresh optimizer, validates on both views after
    each epoch and keeps the weights with the best mean score over them.

    Attributes:
        epochs: passes of ``steps_per_epoch`` batches (0: no second phase).
        learning_rate: Adam learning rate (cosine-decayed to 5 %).
        capture_share: share of documents shown as their camera capture seen through the
            known homography (``{split}_capture.npy``: blur, glare, JPEG, shading) rather
            than the flat render. A UNET trained on flat renders alone painted no field on
            glared licence captures whose flat renders it segmented at probability 0.99, and
            CRAFT's word-box hmean fell from 95.8 % on flat renders to 87.1 % on captures.
        geometric: random similarity transforms of whole documents or crops (image and
            targets together), as the pipeline's perspective crops are a little off.
    """

    epochs: int = 0
    learning_rate: float = 0.002
    capture_share: float = 0.5
    geometric: GeometricConfig = GeometricConfig()
