"""Load the face models once (MTCNN, dlib 5/68-point shape predictors, dlib ResNet) from local files."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.face.detect_graph import graph_mtcnn
from veid.errors import ModelError
from veid.types import ModelVersion


@dataclass(frozen=True)
class FaceModels:
    """The loaded face models; build with :meth:`load`, share between stages, never reload per image.

    Attributes:
        detector: an ``mtcnn.MTCNN`` instance (weights ship inside the ``mtcnn`` wheel).
        shape5: dlib 5-point shape predictor (the alignment the ResNet was trained with).
        shape68: dlib 68-point shape predictor (eye openness and head pose in the quality gates,
            landmarks of faces found by the fallback detector).
        hog: dlib's HOG frontal face detector, the fallback when MTCNN finds no face.
        recognizer: dlib ``face_recognition_model_v1`` (ResNet, 128-d, 150x150 chips).
        versions: name and SHA-256 of each model file, for results and attestations.
    """

    detector: Any
    shape5: Any
    shape68: Any
    recognizer: Any
    hog: Any
    versions: tuple[ModelVersion, ...]

    @classmethod
    def load(cls, *, hash_files: bool = True, embed_processes: int = 0) -> "FaceModels":
        """Load every model from the installed packages; no network access.

        Args:
            hash_files: compute each model file's SHA-256 (about 0.3 s in all).
            embed_processes: 0 runs the ResNet in the calling thread; more runs it in that many
                helper processes (:class:`pipelines.face.embed_pool.ProcessRecognizer`), which
                lets concurrent requests embed in parallel (dlib holds the GIL).

        Raises:
            ModelError: a package or model file is missing or unreadable.
        """
        try:
            import dlib
            import face_recognition_models as frm
            from mtcnn import MTCNN  # noqa: F401  (missing: the message below)
        except ImportError as exc:
            raise ModelError(f"face models need dlib-bin, face-recognition-models and mtcnn: {exc}") from exc
        paths = {
            "dlib_face_recognition_resnet_model_v1": Path(frm.face_recognition_model_location()),
            "shape_predictor_5_face_landmarks": Path(frm.pose_predictor_five_point_model_location()),
            "shape_predictor_68_face_landmarks": Path(frm.pose_predictor_model_location()),
        }
        for name, path in paths.items():
            if not path.is_file():
                raise ModelError(f"model file for {name} not found at {path}")
        try:
            resnet = str(paths["dlib_face_recognition_resnet_model_v1"])
            if embed_processes > 0:
                from pipelines.face.embed_pool import ProcessRecognizer

                recognizer = ProcessRecognizer(resnet, embed_processes)
            else:
                recognizer = dlib.face_recognition_model_v1(resnet)
            shape5 = dlib.shape_predictor(str(paths["shape_predictor_5_face_landmarks"]))
            shape68 = dlib.shape_predictor(str(paths["shape_predictor_68_face_landmarks"]))
            detector = graph_mtcnn()  # mtcnn.MTCNN, networks compiled: same faces, less per-call overhead
            hog = dlib.get_frontal_face_detector()
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelError(f"cannot load face models: {exc}") from exc
        versions = [
            ModelVersion(name=name, sha256=_sha256(path) if hash_files else "")
            for name, path in paths.items()
        ]
        mtcnn_weights = Path(importlib.import_module("mtcnn").__file__).parent / "assets" / "weights"
        versions.append(ModelVersion(name="mtcnn", sha256=_tree_sha256(mtcnn_weights) if hash_files else "",
                                     extra={"package": "mtcnn==1.0.0"}))
        return cls(detector=detector, shape5=shape5, shape68=shape68, recognizer=recognizer, hog=hog,
                   versions=tuple(versions))


def _tree_sha256(folder: Path) -> str:
    """SHA-256 over the sorted (relative name, file sha256) pairs of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{_sha256(path)}\n".encode())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
