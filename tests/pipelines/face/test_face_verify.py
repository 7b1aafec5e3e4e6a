"""FaceVerifier on real photos: a genuine pair matches, impostor pairs do not; bad input is an InputError."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.face.verify import FaceConfig, FaceVerifier, load_calibration
from veid.config import load_section
from veid.errors import InputError


@pytest.fixture(scope="module")
def verifier(repo_root):
    from pipelines.face.models import FaceModels

    cfg = load_section(repo_root / "params.yaml", "face", FaceConfig)
    return FaceVerifier(cfg, FaceModels.load(hash_files=False))


def test_calibration_file_is_data_driven(repo_root):
    cfg = load_section(repo_root / "params.yaml", "face", FaceConfig)
    cal = load_calibration(cfg.calibration_file)
    # the threshold applies to the cohort-normalised distance (a ratio near 1 between strangers)
    assert cal.score == "cohort" and cal.cohort_k == cfg.cohort.k and len(cal.cohort_sha256) == 64
    assert 0.5 < cal.threshold < 1.0
    assert cal.target_far == pytest.approx(0.001)
    assert "calibration identities" in cal.source
    # probability is monotone in distance and ~0/1 far from the threshold
    assert cal.probability(0.1) > cal.probability(cal.threshold) > cal.probability(1.0)
    assert cal.probability(0.1) > 0.9 and cal.probability(1.1) < 0.1


def test_genuine_pair_of_real_photos_matches(verifier, shared_data):
    faces = shared_data / "faces"
    result = verifier.compare(faces / "B001260_1.jpg", faces / "B001260_2.jpg")
    assert result.match and result.score <= result.threshold
    assert result.probability > 0.5
    assert result.quality_passed, [c for c in result.checks if not c.passed]
    doc = json.loads(json.dumps(result.to_json_dict()))
    assert {"distance", "score", "match", "probability", "checks"} <= set(doc)
    assert len(result.checks) == 12 and all(c["name"].startswith(("face.a.", "face.b.")) for c in doc["checks"])


def test_impostor_pairs_of_real_photos_do_not_match(verifier, shared_data):
    faces = shared_data / "faces"
    rows = [line.split(",") for line in (faces / "pairs.csv").read_text().splitlines()[1:]]
    impostors = [r for r in rows if r[2].strip() == "0"][:3]
    for a, b, _ in impostors:
        result = verifier.compare(faces / a, faces / b)
        assert not result.match, (a, b, result.distance)
        assert result.probability < 0.5


def test_same_photo_compared_with_itself_is_distance_zero(verifier, shared_data):
    path = shared_data / "faces" / "B001260_1.jpg"
    a = verifier.observe(path)
    b = verifier.observe(path.read_bytes())
    assert a.embedding.distance(b.embedding) == pytest.approx(0.0, abs=1e-9)


def test_bad_images_give_input_errors(verifier, tmp_path, shared_data):
    good = shared_data / "faces" / "B001260_1.jpg"
    not_image = tmp_path / "x.jpg"
    not_image.write_bytes(b"this is not an image")
    with pytest.raises(InputError, match="image B: .*not a decodable image"):
        verifier.compare(good, not_image)
    truncated = tmp_path / "t.jpg"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="image A"):
        verifier.compare(truncated, good)
    with pytest.raises(InputError, match="cannot read"):
        verifier.compare(tmp_path / "missing.jpg", good)
    with pytest.raises(InputError, match="no face found"):
        verifier.compare(np.full((200, 200, 3), 127, np.uint8), good)
    with pytest.raises(InputError, match="at least 32 px"):
        verifier.compare(np.zeros((10, 10, 3), np.uint8), good)
    with pytest.raises(InputError, match="uint8"):
        verifier.compare(np.zeros((100, 100, 3), np.float32), good)


def test_hog_fallback_when_mtcnn_finds_nothing(verifier, shared_data):
    from pipelines.face.detect import DetectorConfig, FaceDetector
    from pipelines.face.image_io import load_rgb

    class NoFaces:
        def detect_faces(self, image, **kwargs):
            return []

    img = load_rgb(shared_data / "faces" / "B001260_1.jpg")
    models = verifier.models
    found = FaceDetector(DetectorConfig(), NoFaces(), models.hog, models.shape68)(img)
    assert len(found) == 1 and found[0].source == "hog"
    mtcnn_face = verifier.detect(img)[0]
    assert mtcnn_face.source == "mtcnn"
    # both detectors put the eyes within a few pixels of each other
    assert np.abs(found[0].landmarks.to_array()[:2] - mtcnn_face.landmarks.to_array()[:2]).max() < 8
    assert not FaceDetector(DetectorConfig(hog_fallback=False), NoFaces(), models.hog, models.shape68)(img)


def test_document_portrait_flag_adds_liveness_check(verifier, shared_data):
    faces = shared_data / "faces"
    result = verifier.compare(faces / "B001260_1.jpg", faces / "B001260_2.jpg", a_is_document_portrait=True)
    live = [c for c in result.checks if c.name == "liveness.selfie_is_document_portrait"]
    assert len(live) == 1 and live[0].passed  # two different sittings


def test_mirror_averaged_embedding_is_mirror_invariant(verifier, shared_data):
    """Known answer: the mean of chip and mirrored chip descriptors is the same for the mirrored chip."""
    from dataclasses import replace

    from pipelines.face.embed import EmbedderConfig, FaceEmbedder

    aligned = verifier.observe(shared_data / "faces" / "B001260_2.jpg").aligned
    mirrored = replace(aligned, chip=np.ascontiguousarray(aligned.chip[:, ::-1]))
    averaged = FaceEmbedder(EmbedderConfig(mirror_average=True), verifier.models.recognizer)
    single = FaceEmbedder(EmbedderConfig(mirror_average=False), verifier.models.recognizer)
    assert averaged(aligned).distance(averaged(mirrored)) < 1e-6
    assert single(aligned).distance(single(mirrored)) > 1e-3  # one pass is not mirror-symmetric


def _grey_photo(path) -> np.ndarray:
    """A colour photo printed in monochrome, as on many identity documents (three equal channels)."""
    from pipelines.face.image_io import load_rgb

    rgb = load_rgb(path)
    grey = (rgb.astype(np.float64) @ [0.299, 0.587, 0.114]).round().astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def test_grey_portrait_is_compared_with_the_selfie_in_grey(verifier, shared_data):
    """A monochrome portrait against a colour selfie: the selfie's grey copy is embedded, both ways round."""
    from dataclasses import replace

    faces = shared_data / "faces"
    portrait = verifier.observe(_grey_photo(faces / "B001260_1.jpg"))
    selfie = verifier.observe(faces / "B001260_2.jpg")
    assert portrait.grey and not selfie.grey
    expected = verifier.embed.embed_grey(selfie.aligned).distance(portrait.embedding)
    assert expected != pytest.approx(portrait.embedding.distance(selfie.embedding), abs=1e-4)
    for a, b in ((portrait, selfie), (selfie, portrait)):
        result = verifier.compare_observations(a, b)
        assert result.compared_in_grey and result.to_json_dict()["compared_in_grey"] is True
        assert result.distance == pytest.approx(expected, abs=1e-9)
        assert result.match  # the same person, two sittings
    colour = verifier.compare_observations(verifier.observe(faces / "B001260_1.jpg"), selfie)
    assert not colour.compared_in_grey
    off = FaceVerifier(replace(verifier.cfg, embedder=replace(verifier.cfg.embedder, grey_match=False)),
                       verifier.models, verifier.calibration)
    plain = off.compare_observations(portrait, selfie)
    assert not plain.compared_in_grey
    assert plain.distance == pytest.approx(portrait.embedding.distance(selfie.embedding), abs=1e-9)


def test_evaluation_decides_grey_pairs_like_the_verifier(verifier, shared_data):
    from pipelines.face import evaluation as ev

    faces = shared_data / "faces"
    images = {"grey:1": _grey_photo(faces / "B001260_1.jpg"), "real:2": None, "real:3": None}
    files = {"real:2": faces / "B001260_2.jpg", "real:3": faces / "B001277_1.jpg"}

    def load(key):
        from pipelines.face.image_io import load_rgb

        return images[key] if images[key] is not None else load_rgb(files[key])

    pairs = ev.PairSet("t", ("grey:1", "grey:1", "real:2"), ("real:2", "real:3", "real:3"),
                       np.asarray([True, False, False]))
    emb = ev.embed_keys(verifier, images, load, progress=False, pairs=[pairs])
    assert emb.grey == {"grey:1": True, "real:2": False, "real:3": False}
    assert set(emb.grey_vectors) == {"real:2", "real:3"}
    d, same, _, dropped = emb.pair_distances_kept(pairs)
    want = [verifier.compare(images["grey:1"], files["real:2"]).distance,
            verifier.compare(images["grey:1"], files["real:3"]).distance,
            verifier.compare(files["real:2"], files["real:3"]).distance]
    assert dropped == 0 and d == pytest.approx(want, abs=1e-9)
    # and the score decided on (cohort-normalised when the calibration says so), pair by pair
    s, _, _, _ = emb.pair_scores_kept(pairs, verifier.normalizer)
    want = [verifier.compare(images["grey:1"], files["real:2"]).score,
            verifier.compare(images["grey:1"], files["real:3"]).score,
            verifier.compare(files["real:2"], files["real:3"]).score]
    assert s == pytest.approx(want, abs=1e-9)
