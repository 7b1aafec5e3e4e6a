"""Face-based orientation and perspective: a card turned by 90 degrees comes back upright, its outline is found."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from pipelines.document.orientation import FaceOrientation, rotate
from pipelines.document.perspective import DocumentWarper, order_corners
from veid.types import Box


def _card(shared_data) -> np.ndarray:
    """A 640x404 ID-1-shaped card: a real portrait on the left, dark text lines on the right."""
    face = cv2.cvtColor(cv2.imread(str(sorted((shared_data / "faces").glob("*.jpg"))[0])), cv2.COLOR_BGR2RGB)
    card = np.full((404, 640, 3), 235, np.uint8)
    card[:, :, 2] = 225
    h, w = face.shape[:2]
    s = 260 / h
    face = cv2.resize(face, (int(w * s), 260))[:, : 200]
    card[70:330, 30:30 + face.shape[1]] = face
    for i, text in enumerate(["SURNAME", "DOE", "GIVEN NAMES", "JANE", "12 03 1985"]):
        cv2.putText(card, text, (270, 90 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    return card


def _scene(card: np.ndarray, angle: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The card on a coloured background with a mild perspective; returns the photo and the true corners."""
    bg = np.zeros((720, 960, 3), np.uint8)
    bg[:] = (40, 140, 120)
    h, w = card.shape[:2]
    dst = np.float32([[170, 150], [800, 170], [790, 575], [180, 560]])
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    warped = cv2.warpPerspective(card, m, (960, 720))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (960, 720)) > 0
    bg[mask] = warped[mask]
    # turn the whole photo clockwise by `angle` (what a capture at that rotation gives)
    photo = np.ascontiguousarray(np.rot90(bg, k=-(angle // 90)))
    return photo, dst


@pytest.fixture(scope="module")
def orienter() -> FaceOrientation:
    return FaceOrientation()


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_turned_card_comes_back_upright(shared_data, orienter, angle):
    photo, _ = _scene(_card(shared_data), angle)
    result = orienter(photo)
    assert result.face_found
    assert result.angle == angle
    upright = rotate(photo, result.angle)
    assert upright.shape == (720, 960, 3)


def test_no_face_is_reported_not_guessed(orienter):
    blank = np.full((400, 640, 3), 240, np.uint8)
    result = orienter(blank)
    assert not result.face_found and result.confidence == 0.0


def test_outline_found_and_warped_to_card_size(shared_data):
    photo, truth = _scene(_card(shared_data))
    warped = DocumentWarper()(photo)
    found = warped.quad.to_array()
    assert np.abs(found - truth).max() < 12  # pixels
    assert warped.is_card and warped.image.shape == (638, 1012, 3)
    assert not warped.whole_frame


def test_order_corners_is_clockwise_from_top_left():
    pts = np.float32([[100, 90], [10, 10], [10, 90], [100, 10]])
    assert order_corners(pts).tolist() == [[10, 10], [100, 10], [100, 90], [10, 90]]


def test_rotate_undoes_a_clockwise_turn():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    turned = np.rot90(img, k=-1)  # clockwise 90
    assert np.array_equal(rotate(turned, 90), img)


class _StubMtcnn:
    """Answers MTCNN calls (one image each, ``batch`` off) with preset faces, in the order of the angles."""

    def __init__(self, faces_per_call: list[list[dict]]) -> None:
        self._faces = list(faces_per_call)

    def detect_faces(self, image, min_face_size=20):
        return self._faces.pop(0)


def _face(box: tuple[float, float, float, float], confidence: float) -> dict:
    """An MTCNN-style face with upright-looking landmarks inside ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    at = lambda fx, fy: (x0 + fx * w, y0 + fy * h)  # noqa: E731
    return {"box": [x0, y0, w, h], "confidence": confidence,
            "keypoints": {"left_eye": at(0.3, 0.35), "right_eye": at(0.7, 0.35), "nose": at(0.5, 0.55),
                          "mouth_left": at(0.35, 0.75), "mouth_right": at(0.65, 0.75)}}


@pytest.mark.parametrize("rerank", [True, False])
def test_hog_picks_the_upright_face_when_mtcnn_sees_it_at_two_angles(shared_data, orienter, rerank):
    """MTCNN can find one portrait upright and turned by 90 degrees, the turned one a little more confidently;
    dlib's HOG, trained on upright faces only, decides (without it the turned one wins: the test can fail)."""
    photo, _ = _scene(_card(shared_data), 0)
    true_box = next(h.box for h in orienter(photo).hits if h.angle == 0)
    width = round(photo.shape[1] * orienter.cfg.work_side / max(photo.shape[:2]))
    x0, y0, x1, y1 = true_box
    turned_box = (y0, width - x1, y1, width - x0)  # the same face in the work image turned by 90 degrees
    cfg = replace(orienter.cfg, angles=(0, 90), batch=False, hog_rerank=rerank)
    stub = _StubMtcnn([[_face(true_box, 0.98)], [_face(turned_box, 0.999)]])
    result = FaceOrientation(cfg, stub)(photo)
    assert result.face_found
    assert result.angle == (0 if rerank else 90)


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_hog_fallback_finds_the_portrait_upright(shared_data, orienter, angle):
    photo, _ = _scene(_card(shared_data), angle)
    result = FaceOrientation(replace(orienter.cfg, red_fallback=False)).fallback(photo)
    assert result.face_found and result.angle == angle
    assert all(hit.source == "hog" for hit in result.hits)


def test_hog_fallback_reports_no_face_on_a_blank_page(orienter):
    assert not orienter.fallback(np.full((400, 640, 3), 240, np.uint8)).face_found
    off = FaceOrientation(replace(orienter.cfg, hog_fallback_side=0, red_fallback=False))
    assert not off.fallback(np.full((400, 640, 3), 240, np.uint8)).face_found


def test_corner_deviation_tells_a_slanted_card_from_a_wedge():
    from pipelines.document.perspective import corner_deviation
    assert corner_deviation(np.float32([[0, 0], [160, 0], [160, 100], [0, 100]])) < 1e-6
    assert 5 < corner_deviation(np.float32([[0, 0], [160, 10], [150, 100], [5, 95]])) < 15
    assert corner_deviation(np.float32([[0, 0], [160, 0], [300, 400], [10, 20]])) > 30  # a wedge


def test_the_portraits_own_frame_is_not_taken_for_the_document_once_the_face_is_known():
    # a faint card on a grey table, with a dark-framed portrait photo that is card-shaped too
    img = np.full((600, 800, 3), 90, np.uint8)
    img[100:500, 100:700] = 105
    img[180:420, 140:320] = 20
    img[186:414, 146:314] = 200
    frame = DocumentWarper().find_quad(img)
    assert frame is not None and frame.bounds().x1 < 330  # without the hint: the portrait's frame
    face = Box(170, 220, 290, 380)  # the face inside the portrait: its frame is < 6 face areas
    found = DocumentWarper().find_quad(img, face)
    assert found is None or found.bounds().x1 > 690


def _card_touching_a_pale_blob() -> tuple[np.ndarray, np.ndarray]:
    """A pale card whose lower right corner lies on a blurred pale blob of the background (glare, a sheet of
    paper): the two merge into one bright region; returns the photo and the card's true corners."""
    img = np.zeros((960, 1280, 3), np.uint8)
    img[:] = (150, 60, 200)
    cv2.circle(img, (1100, 520), 300, (222, 226, 224), -1)
    cv2.circle(img, (300, 700), 200, (228, 232, 230), -1)
    img = cv2.GaussianBlur(img, (0, 0), 12)
    card = np.full((404, 640, 3), 238, np.uint8)
    for i in range(5):
        cv2.putText(card, f"TEXT LINE {i}", (260, 90 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    card[70:330, 30:230] = (90, 110, 160)
    truth = np.float32([[300, 60], [1000, 40], [1010, 480], [290, 470]])
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [640, 0], [640, 404], [0, 404]]), truth)
    inside = cv2.warpPerspective(np.full((404, 640), 255, np.uint8), m, (1280, 960)) > 0
    img[inside] = cv2.warpPerspective(card, m, (1280, 960))[inside]
    return img, truth


def test_a_card_merged_with_a_pale_background_blob_is_outlined_by_its_straight_edges():
    from pipelines.document.perspective import PerspectiveConfig
    img, truth = _card_touching_a_pale_blob()
    regions_only = DocumentWarper(replace(PerspectiveConfig(), line_count=0)).find_quad(img)
    assert regions_only is None or np.abs(regions_only.to_array() - truth).max() > 50  # the blob is taken in
    found = DocumentWarper().find_quad(img)
    assert found is not None and np.abs(found.to_array() - truth).max() < 8  # pixels


def _stamped_grey_portrait(shared_data) -> np.ndarray:
    """A card whose grey portrait has a red SPECIMEN stamp across the mouth: MTCNN rejects that face."""
    face = cv2.imread(str(shared_data / "faces" / "B001275_2.jpg"), cv2.IMREAD_GRAYSCALE)
    card = np.full((404, 640, 3), 235, np.uint8)
    h, w = face.shape[:2]
    card[70:330, 30:230] = np.repeat(cv2.resize(face, (round(w * 260 / h), 260))[:, :200, None], 3, axis=2)
    cv2.putText(card, "SPECIMEN", (25, 230), cv2.FONT_HERSHEY_DUPLEX, 1.2, (210, 20, 30), 4)
    return card


@pytest.mark.parametrize("angle", [0, 90])
def test_a_red_stamp_across_the_portrait_is_seen_through_on_the_red_channel(shared_data, orienter, angle):
    photo = np.ascontiguousarray(np.rot90(_stamped_grey_portrait(shared_data), k=-(angle // 90)))
    assert not orienter(photo).face_found
    hog_only = FaceOrientation(replace(orienter.cfg, red_fallback=False)).fallback(photo)
    assert not hog_only.face_found
    found = orienter.fallback(photo)
    assert found.face_found and found.angle == angle


def _outline(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _edges_along(shape: tuple[int, int], *quads: np.ndarray) -> np.ndarray:
    near = np.zeros(shape, np.uint8)
    for q in quads:
        cv2.polylines(near, [q.astype(np.int32)], True, 1, 7)
    return near > 0


def test_a_larger_line_outline_replaces_the_region_one_only_where_print_lies_between_them():
    warper = DocumentWarper()
    card, sheet = _outline(100, 100, 420, 300), _outline(80, 80, 440, 320)
    blank = _edges_along((400, 500), card, sheet)  # a card on a sheet of paper: nothing between the outlines
    assert not warper._replaces(sheet, card, blank)
    header = _outline(100, 60, 420, 300)  # the region outline stopped at the bottom of the card's header band
    printed = _edges_along((400, 500), card, header)
    printed[70:90:2, 120:400] = True  # the header's title (edges dilated, as `near` is)
    assert warper._replaces(header, card, printed)
    assert not warper._replaces(_outline(101, 100, 421, 301), card, printed)  # a pixel off is no better outline


def test_a_smaller_line_outline_replaces_the_region_one_only_where_that_is_poorly_outlined():
    warper = DocumentWarper()
    merged, card = _outline(100, 100, 480, 380), _outline(100, 100, 420, 300)  # a blob merged into the region
    assert warper._replaces(card, merged, _edges_along((400, 500), card))
    assert not warper._replaces(card, merged, _edges_along((400, 500), card, merged))  # a band inside the card
