"""Label readers: class folders, image folders and the PaddleClas / PaddleOCR list files read back, and every bad input
refused with the line number and the reason."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.labels import detect_kind, read_labelled


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (255, 255, 255)).save(path, format="PNG")
    return path


def _list(folder: Path, lines: List[str], name: str = "list.txt") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A dataset folder with imgs/a.png, imgs/b.jpg and a non-image imgs/a.gif."""
    _png(tmp_path / "imgs" / "a.png")
    _png(tmp_path / "imgs" / "b.jpg")
    (tmp_path / "imgs" / "a.gif").write_bytes(b"GIF89a")
    return tmp_path


QUAD = [[10, 10], [50, 10], [50, 30], [10, 30]]


def _det(*regions: dict) -> str:
    return json.dumps(list(regions), ensure_ascii=False)


# --- folders -------------------------------------------------------------------------------------------------------

def test_class_folders_read_in_sorted_order_skipping_hidden_and_non_images(tmp_path):
    _png(tmp_path / "dogs" / "z.png")
    _png(tmp_path / "cats" / "b.JPG")
    _png(tmp_path / "cats" / "a.bmp")
    _png(tmp_path / "cats" / ".hidden.png")
    _png(tmp_path / ".cache" / "x.png")
    (tmp_path / "dogs" / "notes.md").write_text("not an image")
    assert detect_kind(tmp_path) == "classification"
    got = read_labelled(tmp_path)
    assert got.kind == "classification" and len(got) == 3
    assert [p.relative_to(tmp_path).as_posix() for p in got.images] == ["cats/a.bmp", "cats/b.JPG", "dogs/z.png"]
    assert got.labels == ("cats", "cats", "dogs")


def test_class_folders_refuse_an_empty_class_and_loose_images(tmp_path):
    _png(tmp_path / "cats" / "a.png")
    (tmp_path / "dogs").mkdir()
    with pytest.raises(PaddleEdgeError, match=r"class folders without images.*dogs/") as err:
        read_labelled(tmp_path, "classification")
    assert "remove the empty ones" in err.value.fix
    _png(tmp_path / "dogs" / "d.png")
    _png(tmp_path / "loose.png")
    with pytest.raises(PaddleEdgeError, match=r"images beside its class folders \(loose.png\)"):
        read_labelled(tmp_path, "classification")


def test_unlabelled_folder_is_searched_recursively(tmp_path):
    _png(tmp_path / "b.png")
    _png(tmp_path / "a.jpeg")
    (tmp_path / "readme.txt.bak").write_text("x")
    assert detect_kind(tmp_path) == "unlabelled"
    got = read_labelled(tmp_path)
    assert got.labels is None and [p.name for p in got.images] == ["a.jpeg", "b.png"]
    _png(tmp_path / "sub" / "deeper" / "c.bmp")
    assert [p.name for p in read_labelled(tmp_path, "unlabelled").images] == ["a.jpeg", "b.png", "c.bmp"]


def test_class_folders_can_be_read_as_unlabelled(tmp_path):
    for name in ("cats/a.png", "cats/b.png", "dogs/c.png"):
        _png(tmp_path / name)
    assert len(read_labelled(tmp_path, "unlabelled")) == 3


@pytest.mark.parametrize("setup, problem", [
    (lambda d: None, "no images"),
    (lambda d: (d / "x.gif").write_bytes(b"GIF89a"), "no images"),
    (lambda d: (_png(d / "a.png"), _png(d / "cats" / "b.png")), "both images and folders of images"),
    (lambda d: _png(d / "cats" / "b.png"), r"one folder of images \(cats/\)"),
    (lambda d: (_png(d / "a.png"), (d / "rec_gt.txt").write_text("a.png\tx\n")), "pass the list file itself"),
])
def test_folder_kind_is_not_guessed_where_ambiguous(tmp_path, setup, problem):
    setup(tmp_path)
    with pytest.raises(PaddleEdgeError, match=problem):
        detect_kind(tmp_path)


def test_empty_folder_is_refused_as_unlabelled(tmp_path):
    with pytest.raises(PaddleEdgeError, match="no images"):
        read_labelled(tmp_path, "unlabelled")


# --- list files ----------------------------------------------------------------------------------------------------

def test_classification_list_takes_a_tab_or_one_space_relative_to_the_list(data, tmp_path_factory, monkeypatch):
    listed = _list(data, ["imgs/a.png\t3", "imgs/b.jpg 7", "imgs/a.png\tcat with spaces "])
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    got = read_labelled(listed, "classification")
    assert got.labels == ("3", "7", "cat with spaces")
    assert got.images == (data / "imgs/a.png", data / "imgs/b.jpg", data / "imgs/a.png")
    assert all(p.is_absolute() for p in got.images)


def test_space_separated_list_is_detected_as_classification(data):
    assert detect_kind(_list(data, ["imgs/a.png 0", "imgs/b.jpg 1"])) == "classification"


def test_recognition_list_keeps_the_text_exactly(data):
    listed = _list(data, ["imgs/a.png\tTotal: $12.50 (incl. tax)", "imgs/b.jpg\t 中文 text "])
    got = read_labelled(listed, "recognition")
    assert got.labels == ("Total: $12.50 (incl. tax)", " 中文 text ")


def test_tab_separated_plain_list_needs_its_kind(data):
    with pytest.raises(PaddleEdgeError, match="recognition texts or class names") as err:
        detect_kind(_list(data, ["imgs/a.png\thello"]))
    assert "'recognition' or 'classification'" in err.value.fix


def test_detection_list_reads_polygons_and_ignore_flags(data):
    five = [[0, 0], [20, 0], [30, 10], [20, 20], [0, 20]]
    listed = _list(data, [
        "imgs/a.png\t" + _det({"transcription": "Hello", "points": QUAD},
                              {"transcription": "###", "points": [[1.5, 2.5], [9, 2], [9, 8]]},
                              {"transcription": "*", "points": five, "difficult": False}),
        "imgs/b.jpg\t[]",
    ])
    assert detect_kind(listed) == "detection"
    got = read_labelled(listed)
    first, empty = got.labels
    assert empty == ()
    assert [(r.transcription, r.ignore, r.points.shape) for r in first] == [
        ("Hello", False, (4, 2)), ("###", True, (3, 2)), ("*", True, (5, 2))]
    assert first[0].points.dtype == np.float32 and first[1].points[0].tolist() == [1.5, 2.5]
    with pytest.raises(ValueError):
        first[0].points[0, 0] = 1.0


def test_utf8_bom_crlf_and_blank_lines_are_accepted(data):
    listed = data / "list.txt"
    listed.write_bytes(b"\xef\xbb\xbfimgs/a.png\tone\r\n\r\n   \r\nimgs/b.jpg\ttwo\r\n")
    assert read_labelled(listed, "recognition").labels == ("one", "two")


GOOD = {"classification": "imgs/a.png\tcat", "recognition": "imgs/a.png\thello", "detection": "imgs/a.png\t[]"}


@pytest.mark.parametrize("kind, line, reason", [
    ("recognition", "imgs/missing.png\thello", "image 'imgs/missing.png' does not exist"),
    ("detection", "imgs/missing.png\t[]", "image 'imgs/missing.png' does not exist"),
    ("recognition", "imgs/a.png hello", "no tab between the image path and its label"),
    ("classification", "imgs/a.png", "no tab between the image path and its label"),
    ("classification", "imgs/my a.png 3", "no tab, and several spaces"),
    ("recognition", "\thello", "empty image path"),
    ("classification", " 3", "empty image path"),
    ("recognition", "imgs/a.gif\thello", r"'imgs/a.gif' is not an image file"),
    ("classification", "imgs/a.gif\tcat", r"'imgs/a.gif' is not an image file"),
    ("recognition", "imgs/a.png\t", "empty text"),
    ("recognition", "imgs/a.png\t  ", "empty text"),
    ("classification", "imgs/a.png\t ", "empty class"),
    ("recognition", "imgs/a.png\tone\ttwo", "more than one tab"),
    ("detection", 'imgs/a.png\t[{"transcription": "a", "points": [[0, 0], [1, 0], [1, 1]]}', "bad JSON at column 71"),
    ("detection", "imgs/a.png\thello", "bad JSON at column 12"),
    ("detection", 'imgs/a.png\t{"transcription": "a"}', "a JSON dict, not a list of regions"),
    ("detection", "imgs/a.png\t" + _det({"points": QUAD}), "region 1 is not an object"),
    ("detection", "imgs/a.png\t" + _det({"transcription": 5, "points": QUAD}), "region 1 is not an object"),
    ("detection", "imgs/a.png\t[5]", "region 1 is not an object"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": QUAD},
                                        {"transcription": "b", "points": [[0, 0], [5, 5]]}),
     r"region 2 has 2 point\(s\); a polygon needs at least 3"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": [["0", 0], [5, 0], [5, 5]]}),
     r"region 1: points are not a list of \[x, y\] number pairs"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": [[True, 0], [5, 0], [5, 5]]}),
     "number pairs"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": [[0, 0, 0], [5, 0], [5, 5]]}),
     "number pairs"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": {"x": 1}}), "number pairs"),
    ("detection", 'imgs/a.png\t[{"transcription": "a", "points": [[NaN, 0], [5, 0], [5, 5]]}]', "non-finite"),
    ("detection", 'imgs/a.png\t[{"transcription": "a", "points": [[0, 0], [Infinity, 0], [5, 5]]}]', "non-finite"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": [[0, 0], [5, 5], [10, 10]]}),
     "encloses no area"),
    ("detection", "imgs/a.png\t" + _det({"transcription": "a", "points": [[0, 0], [10, 10], [10, 0], [0, 10]]}),
     "edges cross"),
])
def test_bad_line_names_its_number_and_reason(data, kind, line, reason):
    listed = _list(data, [GOOD[kind], "", line])
    with pytest.raises(PaddleEdgeError) as err:
        read_labelled(listed, kind)
    message = str(err.value)
    assert "1 bad line(s)" in message and f"{kind} list" in message
    assert err.value.fix, "every error says what to do"
    assert re.search(f"line 3: .*{reason}", message), message


def test_polygons_that_touch_themselves_but_do_not_cross_are_kept(data):
    concave = [[0, 0], [10, 0], [10, 10], [5, 2], [0, 10]]
    listed = _list(data, ["imgs/a.png\t" + _det({"transcription": "v", "points": concave})])
    assert read_labelled(listed, "detection").labels[0][0].points.shape == (5, 2)


def test_every_bad_line_is_reported_at_once(data):
    lines = ["imgs/a.png\tok", "imgs/none.png\tx", "imgs/a.png\tok", "no-tab-here"] + ["imgs/gone.png\tx"] * 11
    with pytest.raises(PaddleEdgeError) as err:
        read_labelled(_list(data, lines), "recognition")
    message = str(err.value)
    assert "13 bad line(s)" in message and "line 2: image 'imgs/none.png'" in message and "line 4: no tab" in message
    assert "... and 3 more" in message
    assert "relative to the list file's folder" in err.value.fix and "path<TAB>label" in err.value.fix


def test_list_file_must_be_utf8_and_the_bad_line_is_named(data):
    listed = data / "list.txt"
    listed.write_bytes(b"imgs/a.png\tok\n" + "imgs/b.jpg\t发票\n".encode("gbk"))
    with pytest.raises(PaddleEdgeError, match=r"line 2: not UTF-8") as err:
        read_labelled(listed, "recognition")
    assert "UTF-8" in err.value.fix


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf\r\n"])
def test_empty_list_is_refused(data, content):
    (data / "list.txt").write_bytes(content)
    with pytest.raises(PaddleEdgeError, match="lists no images"):
        read_labelled(data / "list.txt", "recognition")


def test_kind_and_path_mismatches_are_refused(data):
    listed = _list(data, [GOOD["recognition"]])
    with pytest.raises(PaddleEdgeError, match="unknown label kind 'ocr'"):
        read_labelled(listed, "ocr")
    with pytest.raises(PaddleEdgeError, match="recognition labels come in a list file"):
        read_labelled(data, "recognition")
    with pytest.raises(PaddleEdgeError, match="does not exist"):
        read_labelled(data / "nope.txt", "recognition")
    with pytest.raises(PaddleEdgeError, match="does not exist"):
        detect_kind(data / "nope.txt")


def test_any_list_can_be_read_as_unlabelled_images(data):
    (data / "imgs" / "my photo.png").write_bytes(b"")
    listed = _list(data, ["imgs/a.png\thello world", "imgs/b.jpg 3", "imgs/my photo.png", "imgs/a.png\t[]"])
    got = read_labelled(listed, "unlabelled")
    assert got.labels is None
    assert [p.relative_to(data).as_posix() for p in got.images] == ["imgs/a.png", "imgs/b.jpg", "imgs/my photo.png",
                                                                     "imgs/a.png"]
    with pytest.raises(PaddleEdgeError, match=r"line 2: image 'imgs/c.png' does not exist") as err:
        read_labelled(_list(data, ["imgs/a.png", "imgs/c.png\tx", "\tx"]), "unlabelled")
    assert "line 3: empty image path" in str(err.value)


# --- round trips ---------------------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r"), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT.filter(str.strip), min_size=1, max_size=5))
def test_any_recognition_text_survives_the_round_trip(data, texts):
    listed = _list(data, [f"imgs/a.png\t{text}" for text in texts])
    assert read_labelled(listed, "recognition").labels == tuple(texts)


_COORD = st.floats(-1e4, 1e4, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boxes=st.lists(st.tuples(_COORD, _COORD, st.floats(0.5, 500, width=32), st.floats(0.5, 500, width=32),
                                _TEXT), max_size=4))
def test_any_rectangle_survives_the_round_trip(data, boxes):
    regions = [{"transcription": text, "points": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]}
               for x, y, w, h, text in boxes]
    got = read_labelled(_list(data, ["imgs/a.png\t" + _det(*regions)]), "detection").labels[0]
    assert [r.transcription for r in got] == [r["transcription"] for r in regions]
    for region, want in zip(got, regions):
        np.testing.assert_array_equal(region.points, np.array(want["points"], dtype=np.float32))
