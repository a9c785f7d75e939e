"""OCR heads in numpy: CTC decoding, DB text boxes and the OCR scores, checked on hand-made outputs."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from paddle_edge.runtime.ctc import decode_ctc
from paddle_edge.runtime.db_boxes import DbParams, TextBox, boxes_from_probability_map
from paddle_edge.runtime.errors import InputError
from paddle_edge.runtime.ocr_metrics import detection_scores, edit_distance, polygon_iou, recognition_scores

FEW = settings(max_examples=60, deadline=None)
SYMBOLS = ["<blank>", "a", "b", "c"]


def one_hot_steps(classes, probs, width=len(SYMBOLS)):
    """[1, T, width] probabilities whose best class at step t is classes[t] with probability probs[t]."""
    out = np.zeros((1, len(classes), width), dtype=np.float32)
    for t, (c, p) in enumerate(zip(classes, probs)):
        out[0, t, :] = (1 - p) / (width - 1)
        out[0, t, c] = p
    return out


# CTC

def test_ctc_collapses_repeats_drops_blanks_and_averages_the_kept_steps():
    probs = one_hot_steps([1, 1, 0, 1, 2, 2, 0, 3], [0.9, 0.5, 0.8, 0.7, 0.6, 0.4, 0.9, 0.8])
    [(text, confidence)] = decode_ctc(probs, SYMBOLS)
    assert text == "aabc"
    assert confidence == pytest.approx(np.mean([0.9, 0.7, 0.6, 0.8]), abs=1e-6)


def test_ctc_rows_of_a_batch_are_decoded_apart():
    batch = np.concatenate([one_hot_steps([2, 0, 2], [0.9] * 3), one_hot_steps([3, 3, 3], [0.6] * 3)])
    assert [text for text, _ in decode_ctc(batch, SYMBOLS)] == ["bb", "c"]


def test_ctc_all_blank_is_empty_text_with_zero_confidence():
    assert decode_ctc(one_hot_steps([0, 0, 0], [0.99] * 3), SYMBOLS) == [("", 0.0)]
    assert decode_ctc(np.zeros((2, 0, 4), dtype=np.float32), SYMBOLS) == [("", 0.0), ("", 0.0)]


def test_ctc_dictionary_of_the_wrong_width_names_both_numbers():
    with pytest.raises(InputError, match=r"(?s)5 classes.*4 symbols.*dictionary does not match"):
        decode_ctc(one_hot_steps([1, 2], [0.9, 0.9], width=5), SYMBOLS)
    with pytest.raises(InputError, match=r"\[N, T, C\]"):
        decode_ctc(np.zeros((3, 4)), SYMBOLS)


# DB boxes

def probability_map(shape, quads, value=0.9, background=0.02):
    """A float32 map of `background` with each quad (4 (x, y) corners) filled with `value`."""
    image = Image.new("F", (shape[1], shape[0]), background)
    draw = ImageDraw.Draw(image)
    for quad in quads:
        draw.polygon([tuple(map(float, p)) for p in quad], fill=value)
    return np.asarray(image, dtype=np.float32).copy()


def rotated_rect(center, length, thickness, degrees):
    """Corners of a length x thickness rectangle turned by `degrees` about `center`."""
    a = math.radians(degrees)
    u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    return np.array([center + sx * length / 2 * u + sy * thickness / 2 * v
                     for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]])


def grown(corners, unclip_ratio=1.5):
    """A rectangle moved out on every side by area * unclip_ratio / perimeter, as DB grows its boxes."""
    sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    distance = sides[0] * sides[1] * unclip_ratio / (2 * (sides[0] + sides[1]))
    center = corners.mean(axis=0)
    u, v = (corners[1] - corners[0]) / sides[0], (corners[3] - corners[0]) / sides[3]
    return np.array([c + distance * (np.sign((c - center) @ u) * u + np.sign((c - center) @ v) * v) for c in corners])


def expected_box(prob, degrees, thresh=0.3):
    """What DB should find for one drawn rectangle turned by `degrees`: the rectangle at that angle through the
    outermost centres of the pixels above `thresh`, grown by the unclip distance."""
    ys, xs = np.nonzero(prob > thresh)
    a = math.radians(degrees)
    u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    along, across = xs * u[0] + ys * u[1], xs * v[0] + ys * v[1]
    corners = [s * u + t * v for s, t in [(along.min(), across.min()), (along.max(), across.min()),
                                          (along.max(), across.max()), (along.min(), across.max())]]
    return grown(np.array(corners))


def test_an_axis_aligned_block_gives_exactly_the_box_paddleocr_gives():
    """Pixels x 20..79, y 30..45: the rectangle through the pixel centres is 59 x 15; it grows by 59 * 15 * 1.5 /
    (2 * 74) = 8.97, rounded to 9 on the integer grid pyclipper works on."""
    prob = np.full((100, 120), 0.02, dtype=np.float32)
    prob[30:46, 20:80] = 0.9
    [box] = boxes_from_probability_map(prob, (100, 120))
    assert box.points.tolist() == [[11, 21], [88, 21], [88, 54], [11, 54]]
    assert box.score == pytest.approx(0.9, abs=1e-6)


@pytest.mark.parametrize("degrees", [0, 7, -15, 30, 60, 90, 120])
def test_a_drawn_rectangle_comes_back_grown_by_the_unclip_distance(degrees):
    prob = probability_map((200, 300), [rotated_rect(np.array([150.0, 100.0]), 120, 24, degrees)])
    [box] = boxes_from_probability_map(prob, (200, 300))
    assert polygon_iou(box.points, expected_box(prob, degrees)) > 0.95
    assert box.score > 0.8  # the rectangle's mask takes in a few background pixels along slanted sides


@pytest.mark.parametrize("degrees, points, score", [
    (7, [[77, 62], [228, 82], [221, 136], [70, 116]], 0.8573918430106997),
    (-15, [[68, 91], [215, 52], [230, 107], [83, 146]], 0.838654467895559),
    (120, [[87, 150], [162, 20], [211, 48], [136, 178]], 0.8511727391207804)])
def test_turned_rectangles_give_what_paddleocr_gives(degrees, points, score):
    """Boxes and scores that PaddleOCR's DBPostProcess (OpenCV 4.6, pyclipper 1.4, shapely 2.2) gave for these maps."""
    prob = probability_map((200, 300), [rotated_rect(np.array([150.0, 100.0]), 120, 24, degrees)])
    [box] = boxes_from_probability_map(prob, (200, 300))
    assert box.points.tolist() == points
    assert box.score == pytest.approx(score, abs=1e-9)


@FEW
@given(cx=st.floats(70, 130), cy=st.floats(50, 70), length=st.floats(30, 70), thickness=st.floats(10, 20),
       degrees=st.floats(-80, 80))
def test_any_drawn_rectangle_is_found_once_near_where_it_should_be(cx, cy, length, thickness, degrees):
    """(Small rectangles are left out: their pixels' smallest rectangle may turn away from the drawn angle, as in
    PaddleOCR: a 14 x 7 one drawn at 14 degrees comes back at 20.)"""
    prob = probability_map((120, 200), [rotated_rect(np.array([cx, cy]), length, thickness, degrees)])
    boxes = boxes_from_probability_map(prob, (120, 200))
    assert len(boxes) == 1
    assert polygon_iou(boxes[0].points, expected_box(prob, degrees)) > 0.85


def test_box_corners_go_clockwise_from_the_top_left():
    prob = probability_map((200, 300), [rotated_rect(np.array([150.0, 100.0]), 120, 24, 20)])
    [box] = boxes_from_probability_map(prob, (200, 300))
    x, y = box.points[:, 0], box.points[:, 1]
    assert np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0  # clockwise on screen (y down)
    leftmost_two = np.argsort(x, kind="stable")[:2]
    assert 0 in leftmost_two and box.points[0, 1] <= box.points[leftmost_two[leftmost_two != 0][0], 1]


def test_boxes_are_scaled_to_the_source_image_and_clipped_to_it():
    prob = np.full((100, 120), 0.02, dtype=np.float32)
    prob[30:46, 20:80] = 0.9
    prob[60:90, 100:120] = 0.9  # touches the right edge: grown past it, then clipped
    source = (250, 360)
    boxes = boxes_from_probability_map(prob, source)
    same_size = boxes_from_probability_map(prob, (100, 120))
    assert len(boxes) == len(same_size) == 2
    for scaled, unscaled in zip(boxes, same_size):
        expected = np.clip(np.round(unscaled.points * [360 / 120, 250 / 100]), 0, [360, 250])
        assert np.abs(scaled.points - expected).max() <= 1
        assert scaled.points[:, 0].min() >= 0 and scaled.points[:, 0].max() <= 360
        assert scaled.points[:, 1].min() >= 0 and scaled.points[:, 1].max() <= 250
    assert boxes[0].points[:, 0].max() == 360


def test_a_region_whose_mean_is_below_box_thresh_is_dropped():
    faint = [rotated_rect(np.array([60.0, 40.0]), 60, 16, 0)]
    assert boxes_from_probability_map(probability_map((80, 120), faint, value=0.5), (80, 120)) == []
    assert len(boxes_from_probability_map(probability_map((80, 120), faint, value=0.5), (80, 120),
                                          DbParams(box_thresh=0.45))) == 1
    assert len(boxes_from_probability_map(probability_map((80, 120), faint, value=0.9), (80, 120))) == 1


def test_regions_thinner_than_min_size_are_dropped():
    prob = np.full((60, 60), 0.02, dtype=np.float32)
    prob[10:13, 10:13] = 0.9   # 3 x 3 pixels: centres span 2 < 3
    prob[10:12, 30:50] = 0.9   # 2 rows: centres span 1
    prob[40:45, 40:45] = 0.9   # 5 x 5: centres span 4, kept
    boxes = boxes_from_probability_map(prob, (60, 60))
    assert len(boxes) == 1 and polygon_iou(boxes[0].points, np.array([[40, 40], [44, 40], [44, 44], [40, 44]])) > 0.2
    assert boxes_from_probability_map(prob, (60, 60), DbParams(min_size=5)) == []


def test_boxes_still_thinner_than_min_size_plus_2_once_grown_are_dropped():
    """4 x 4 pixels: a 3 x 3 rectangle, grown by 9 * 0.5 / 12 = 0.375 (rounded away on pyclipper's integer grid) to
    3 x 3 < 5, but by 9 * 1.5 / 12 = 1.125 to 5 x 5; PaddleOCR gives the same."""
    prob = np.full((60, 60), 0.02, dtype=np.float32)
    prob[40:44, 40:44] = 0.9
    assert boxes_from_probability_map(prob, (60, 60), DbParams(unclip_ratio=0.5)) == []
    [box] = boxes_from_probability_map(prob, (60, 60))
    assert box.points.tolist() == [[39, 39], [44, 39], [44, 44], [39, 44]]


def test_nothing_above_thresh_gives_no_boxes():
    assert boxes_from_probability_map(np.full((32, 32), 0.29, dtype=np.float32), (64, 64)) == []


def test_boxes_come_in_findcontours_order_and_max_candidates_keeps_the_first():
    prob = np.full((120, 100), 0.02, dtype=np.float32)
    for top in (10, 50, 90):
        prob[top:top + 12, 20:80] = 0.9
    tops = [box.points[:, 1].min() for box in boxes_from_probability_map(prob, (120, 100))]
    assert tops == sorted(tops, reverse=True) and len(tops) == 3
    [only] = boxes_from_probability_map(prob, (120, 100), DbParams(max_candidates=1))
    assert only.points[:, 1].min() == tops[0]


def test_dilation_joins_regions_one_pixel_apart():
    prob = np.full((60, 100), 0.02, dtype=np.float32)
    prob[20:36, 10:40] = 0.9
    prob[20:36, 41:70] = 0.9
    assert len(boxes_from_probability_map(prob, (60, 100))) == 2
    assert len(boxes_from_probability_map(prob, (60, 100), DbParams(use_dilation=True))) == 1


def test_dilation_grows_text_pixels_right_and_down_as_cv2_dilate_does():
    prob = np.full((100, 120), 0.02, dtype=np.float32)
    prob[30:46, 20:80] = 0.9
    [box] = boxes_from_probability_map(prob, (100, 120), DbParams(use_dilation=True))
    assert box.points.tolist() == [[11, 21], [89, 21], [89, 55], [11, 55]]  # PaddleOCR's, OpenCV 4.6


def test_a_hole_is_a_contour_of_its_own_as_in_cv2_retr_list():
    """A 2-pixel slit inside a text region: cv2.findContours(RETR_LIST) lists the slit's border too, and its box is
    kept when the ring around the slit lifts its mean over box_thresh."""
    prob = np.full((80, 100), 0.02, dtype=np.float32)
    prob[20:50, 20:80] = 0.9
    prob[34:36, 30:70] = 0.25
    boxes = boxes_from_probability_map(prob, (80, 100), DbParams(box_thresh=0.5))
    assert len(boxes) == 2
    slit, outer = boxes  # as PaddleOCR gives them (OpenCV 4.6, pyclipper 1.4)
    assert slit.points.tolist() == [[27, 31], [72, 31], [72, 38], [27, 38]]
    assert outer.points.tolist() == [[5, 5], [94, 5], [94, 64], [5, 64]]
    assert (slit.score, outer.score) == pytest.approx((0.5904761779875982, 0.8711110883288913), abs=1e-9)


def flood_count(mask, diagonal):
    """Connected regions of True in `mask` (8-connected with `diagonal`, else 4-connected), and which reach the edge."""
    seen = np.zeros_like(mask)
    steps = [(1, 0), (-1, 0), (0, 1), (0, -1)] + ([(1, 1), (1, -1), (-1, 1), (-1, -1)] if diagonal else [])
    count = open_count = 0
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        count, reaches_edge, todo = count + 1, False, [start]
        seen[start] = True
        while todo:
            y, x = todo.pop()
            reaches_edge |= y in (0, mask.shape[0] - 1) or x in (0, mask.shape[1] - 1)
            for dy, dx in steps:
                ny, nx = y + dy, x + dx
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    todo.append((ny, nx))
        open_count += reaches_edge
    return count, open_count


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 14), st.integers(1, 14), st.floats(0.2, 0.8), st.integers(0, 2 ** 32 - 1))
def test_one_contour_per_text_region_and_per_hole(height, width, fill, seed):
    """8-connected text regions plus 4-connected background regions that do not reach the edge (holes), as
    cv2.findContours(RETR_LIST) counts contours; checked against a flood fill."""
    from paddle_edge.runtime import db_boxes

    mask = np.random.default_rng(seed).random((height, width)) < fill
    texts, _ = flood_count(mask, diagonal=True)
    backgrounds, open_backgrounds = flood_count(~mask, diagonal=False)
    assert len(db_boxes._regions(mask, 10_000)) == texts + backgrounds - open_backgrounds


def test_bad_maps_sizes_and_parameters_are_refused():
    with pytest.raises(InputError, match="output \\[0, 0\\]"):
        boxes_from_probability_map(np.zeros((1, 1, 8, 8), dtype=np.float32), (8, 8))
    with pytest.raises(InputError, match="source_size"):
        boxes_from_probability_map(np.zeros((8, 8), dtype=np.float32), (0, 8))
    with pytest.raises(InputError, match="thresh=-0.1"):
        DbParams(thresh=-0.1)


def test_fill_and_contours_match_opencv_where_it_is_installed():
    """The two places DB leans on OpenCV, checked against it: the score mask (cv2.fillPoly) on random quads, and the
    contour list (cv2.findContours RETR_LIST: count, order, and each contour's minimum-area rectangle)."""
    cv2 = pytest.importorskip("cv2")
    from paddle_edge.runtime import db_boxes

    rng = np.random.default_rng(0)
    for _ in range(300):
        quad = rng.integers(-6, 46, (4, 2))
        want = np.zeros((40, 37), np.uint8)
        cv2.fillPoly(want, quad.reshape(1, -1, 2).astype(np.int32), 1)
        assert np.array_equal(db_boxes._fill_polygon(quad.tolist(), (40, 37)), want.astype(bool)), quad.tolist()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        prob = probability_map((90, 140), [rotated_rect(rng.uniform(0, 140, 2), rng.uniform(3, 60), rng.uniform(2, 20),
                                                        rng.uniform(-90, 90)) for _ in range(25)])
        prob = prob * (rng.random(prob.shape) > 0.03)  # pepper: small holes
        mask = prob > 0.3
        contours, _ = cv2.findContours(mask.astype(np.uint8) * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        ours = db_boxes._regions(mask, 10_000)
        assert len(ours) == len(contours)
        for points, contour in zip(ours, contours):
            axes, low, high = db_boxes._min_area_rect(points)
            (_, _), (w, h), _ = cv2.minAreaRect(contour)
            assert np.prod(high - low) == pytest.approx(w * h, rel=1e-4, abs=1e-3)


def test_the_ocr_heads_import_and_run_with_numpy_and_pillow_only():
    code = (
        "import sys\n"
        "for name in ('cv2', 'scipy', 'shapely', 'pyclipper', 'skimage', 'paddle'):\n"
        "    sys.modules[name] = None\n"
        "import numpy as np\n"
        "from paddle_edge.runtime import ctc, db_boxes, ocr_metrics\n"
        "prob = np.zeros((40, 60), np.float32); prob[10:20, 10:50] = 0.9\n"
        "[box] = db_boxes.boxes_from_probability_map(prob, (40, 60))\n"
        "print(ocr_metrics.polygon_iou(box.points, box.points), ctc.decode_ctc(np.eye(2)[None], ['-', 'x'])[0][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1.0", "x"]


# OCR scores

@pytest.mark.parametrize("a, b, distance", [
    ("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("abc", "abc", 0), ("intention", "execution", 5),
    ("中文识别", "中文识", 1), ("ab", "ba", 2), ("", "", 0)])
def test_edit_distance_of_known_pairs(a, b, distance):
    assert edit_distance(a, b) == distance


def reference_edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcé中 ", max_size=12), st.text(alphabet="abcé中 ", max_size=12))
def test_edit_distance_properties(a, b):
    d = edit_distance(a, b)
    assert d == edit_distance(b, a) == reference_edit_distance(a, b)
    assert (d == 0) == (a == b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))


def test_recognition_scores_by_hand():
    scores = recognition_scores(["abc", "abd", ""], ["abc", "abc", "xy"])
    assert scores["char_acc"] == pytest.approx(1 - 3 / 8)
    assert scores["line_acc"] == pytest.approx(1 / 3)
    assert scores["norm_edit_dis"] == pytest.approx(1 - (0 + 1 / 3 + 1) / 3)
    assert recognition_scores(["abcdefgh"], ["a"])["char_acc"] == 0.0
    with pytest.raises(InputError, match="2 predicted lines for 1 true"):
        recognition_scores(["a", "b"], ["a"])


def square(x, y, side=1.0):
    return np.array([[x, y], [x + side, y], [x + side, y + side], [x, y + side]], dtype=float)


def convex_hull(points):
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    return half(pts)[:-1] + half(pts[::-1])[:-1]


def area(poly):
    x, y = poly[:, 0], poly[:, 1]
    return abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


convex_polygons = st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), min_size=3, max_size=12).map(
    lambda pts: np.array(convex_hull(pts), dtype=float)).filter(lambda p: len(p) >= 3 and area(p) > 1)


def test_polygon_iou_by_hand():
    assert polygon_iou(square(0, 0), square(0.5, 0)) == pytest.approx(1 / 3)
    assert polygon_iou(square(0, 0, 2), square(0.5, 0.5)) == pytest.approx(1 / 4)
    diamond = np.array([[1, 0], [2, 1], [1, 2], [0, 1]], dtype=float)
    assert polygon_iou(square(0, 0, 2), diamond) == pytest.approx(2 / 4)
    assert polygon_iou(square(0, 0), square(1, 0)) == 0.0


@FEW
@given(convex_polygons, convex_polygons)
def test_polygon_iou_properties(a, b):
    assert polygon_iou(a, a) == pytest.approx(1.0, abs=1e-9)
    assert polygon_iou(a, a[::-1]) == pytest.approx(1.0, abs=1e-9)
    assert polygon_iou(a, b + [200, 0]) == 0.0
    iou = polygon_iou(a, b)
    assert 0.0 <= iou <= 1.0
    assert iou == pytest.approx(polygon_iou(b, a), abs=1e-9)
    assert iou == pytest.approx(polygon_iou(a[::-1], b), abs=1e-9)


def test_detection_scores_match_one_to_one_and_add_up_over_images():
    a, b, far = square(0, 0, 10), square(20, 0, 10), square(100, 100, 10)
    image1 = ([a + [0.5, 0], far], [a, a + [1, 0], b])  # the first prediction overlaps two true boxes: it takes one
    image2 = ([square(50, 50, 10)], [square(50.5, 50, 10)])
    both = detection_scores([image1[0], image2[0]], [image1[1], image2[1]])
    assert (both["tp"], both["predicted"], both["truth"]) == (2, 3, 4)
    assert both["precision"] == pytest.approx(2 / 3) and both["recall"] == pytest.approx(0.5)
    assert both["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    one, two = detection_scores([image1[0]], [image1[1]]), detection_scores([image2[0]], [image2[1]])
    assert [one[k] + two[k] for k in ("tp", "predicted", "truth")] == [2, 3, 4]
    assert detection_scores([[a + [0.5, 0], a + [1, 0]]], [[a]])["tp"] == 1  # and a true box takes one prediction


def test_detection_needs_iou_above_the_threshold():
    half = [[np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)]], [[np.array([[0, 0], [2, 0], [2, 1], [0, 1]], float)]]
    assert detection_scores(*half)["tp"] == 0  # IoU exactly 0.5 is not a match, as in PaddleOCR
    assert detection_scores(*half, iou=0.4)["tp"] == 1
    assert detection_scores([[]], [[]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "predicted": 0,
                                            "truth": 0}


def test_detection_scores_refuse_one_image_passed_flat():
    boxes = [square(0, 0), square(5, 5)]
    with pytest.raises(InputError, match=r"\[boxes\]"):
        detection_scores(boxes, boxes)


def test_text_boxes_feed_the_detection_scores():
    prob = np.full((100, 120), 0.02, dtype=np.float32)
    prob[30:46, 20:80] = 0.9
    found = boxes_from_probability_map(prob, (100, 120))
    assert all(isinstance(box, TextBox) for box in found)
    scores = detection_scores([[box.points for box in found]], [[np.array([[14, 24], [85, 24], [85, 51], [14, 51]])]])
    assert scores["tp"] == 1 and scores["precision"] == 1.0
