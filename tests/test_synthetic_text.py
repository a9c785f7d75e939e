"""Synthetic OCR data: each kind read back by source/labels.py, byte-identical per seed, det quads tight around the ink,
cls images the rec images turned, and out_dir never overwritten unless it holds this very render."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.files import sha256_file
from paddle_edge.source import synthetic_text
from paddle_edge.source.labels import read_labelled
from paddle_edge.source.synthetic_text import (ASCII_CHARS, LABEL_KINDS, MANIFEST, FontFace, available_fonts,
                                               render)

SEED = 3
COUNT = {"rec": 40, "cls": 40, "det": 8}


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("synthetic")
    return {kind: render(kind, root / kind, count, seed=SEED) for kind, count in COUNT.items()}


def _tree(folder: Path) -> Dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _chinese_chars() -> set:
    return set("".join(synthetic_text._CJK_WORDS) + "年月元0123456789")


def test_rec_lines_read_back_with_their_texts(sets):
    got = read_labelled(sets["rec"], LABEL_KINDS["rec"])
    assert len(got) == COUNT["rec"] and got.images[0] == sets["rec"].parent / "images" / "000000.png"
    allowed = set(ASCII_CHARS) | (_chinese_chars() if any(f.cjk for f in available_fonts()) else set())
    for image, text in zip(got.images, got.labels):
        assert set(text) <= allowed and text == text.strip() and "  " not in text
        assert 4 <= len(text) <= 24 or not set(text) <= set(ASCII_CHARS)
        with Image.open(image) as line:
            assert line.format == "PNG" and line.mode == "RGB"
            assert 24 <= line.height <= 80 and line.width > line.height
    joined = "".join(got.labels)
    assert any(c.isupper() for c in joined) and any(c.islower() for c in joined) and any(c.isdigit() for c in joined)
    assert set(joined) & set(".,:;-/()%$#@&+'") and len({len(t) for t in got.labels}) > 5


def test_rec_lines_are_dark_text_on_light_ground(sets):
    for image in read_labelled(sets["rec"], "recognition").images[:10]:
        grey = _pixels(image).mean(axis=2)
        assert np.median(grey) > 180 and grey.min() < 110


def test_cls_turns_exactly_half_and_a_turned_image_is_the_rec_image_upside_down(sets):
    cls = read_labelled(sets["cls"], LABEL_KINDS["cls"])
    rec = read_labelled(sets["rec"], "recognition")
    assert len(cls) == COUNT["cls"] and cls.labels.count("180") == COUNT["cls"] // 2
    assert set(cls.labels) == {"0", "180"}
    for cls_image, rec_image, label in zip(cls.images, rec.images, cls.labels):
        want = _pixels(rec_image)
        np.testing.assert_array_equal(_pixels(cls_image), want[::-1, ::-1] if label == "180" else want)


def test_det_pages_read_back_with_quads_inside_the_page(sets):
    got = read_labelled(sets["det"], LABEL_KINDS["det"])
    assert len(got) == COUNT["det"]
    tilted = 0
    for image, regions in zip(got.images, got.labels):
        with Image.open(image) as page:
            width, height = page.size
        assert 640 <= width <= 960 and 480 <= height <= 720
        assert 3 <= len(regions) <= 8
        boxes = []
        for region in regions:
            assert region.points.shape == (4, 2) and not region.ignore and region.transcription.strip()
            assert (region.points >= 0).all() and (region.points[:, 0] <= width).all()
            assert (region.points[:, 1] <= height).all()
            tl, tr, br, bl = region.points
            assert tr[0] > tl[0] and bl[1] > tl[1], "clockwise from top-left"
            tilted += abs(float(tr[1] - tl[1])) >= 2
            boxes.append((*region.points.min(axis=0), *region.points.max(axis=0)))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "lines overlap"
    assert tilted >= 2


def _polygon_mask(size, polygons, grow: int = 0) -> np.ndarray:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for points in polygons:
        corners = [(float(x), float(y)) for x, y in points]
        draw.polygon(corners, fill=255)
        if grow:  # a polygon's outline grows inwards: widen it outwards with thick edges and round corners
            draw.line(corners + corners[:1], fill=255, width=2 * grow + 1)
            for x, y in corners:
                draw.ellipse((x - grow, y - grow, x + grow, y + grow), fill=255)
    return np.asarray(mask) > 0


def test_det_quads_hold_all_the_ink_and_are_tight(sets):
    got = read_labelled(sets["det"], "detection")
    for image, regions in zip(got.images, got.labels):
        pixels = _pixels(image).astype(np.int16)
        ground = pixels[0, 0]  # the page's margin is never written on
        darkness = np.abs(pixels - ground).sum(axis=2)
        size = (pixels.shape[1], pixels.shape[0])
        inside = _polygon_mask(size, [r.points for r in regions])
        near = _polygon_mask(size, [r.points for r in regions], grow=3)
        assert darkness[inside].mean() > 20 * max(darkness[~inside].mean(), 0.1)
        assert darkness[~near].max() == 0, "ink outside every quad"
        ys, xs = np.nonzero(darkness > 60)
        ink = np.stack([xs + 0.5, ys + 0.5], axis=1)
        for region in regions:
            own = ink[_polygon_mask(size, [region.points], grow=3)[ys, xs]]
            assert len(own) > 20
            for k in range(4):
                p, q = region.points[k].astype(np.float64), region.points[(k + 1) % 4].astype(np.float64)
                edge = q - p
                distance = np.abs(edge[0] * (own[:, 1] - p[1]) - edge[1] * (own[:, 0] - p[0])) / np.hypot(*edge)
                assert distance.min() <= 2.0, f"{region.transcription!r}: side {k} is {distance.min():.1f} px off the ink"


def test_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path, sets):
    for kind in ("rec", "cls", "det"):
        render(kind, tmp_path / f"{kind}-again", COUNT[kind], seed=SEED)
        assert _tree(tmp_path / f"{kind}-again") == _tree(sets[kind].parent), kind
        render(kind, tmp_path / f"{kind}-other", COUNT[kind], seed=SEED + 1)
        first, other = _tree(sets[kind].parent), _tree(tmp_path / f"{kind}-other")
        assert first.keys() == other.keys()
        if kind != "cls":  # cls labels are 0 or 180: another seed may turn the same ones
            assert first[sets[kind].name] != other[sets[kind].name]
        assert sum(first[k] != other[k] for k in first if k.startswith("images/")) >= COUNT[kind] // 2


def test_a_prefix_of_samples_does_not_depend_on_the_count(tmp_path, sets):
    short = render("rec", tmp_path / "short", 5, seed=SEED)
    assert short.read_text(encoding="utf-8").splitlines() == sets["rec"].read_text(encoding="utf-8").splitlines()[:5]


def test_manifest_records_arguments_and_fonts(sets):
    manifest = json.loads((sets["det"].parent / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest["kind"], manifest["count"], manifest["seed"], manifest["label_file"]) == ("det", 8, SEED, "det_gt.txt")
    names = [font["name"] for font in manifest["fonts"]]
    assert "DejaVu Sans Book" in names and "DejaVu Serif Bold" in names
    for font in manifest["fonts"]:
        assert sha256_file(Path(font["file"])) == font["sha256"]
    assert manifest["pillow"] == __import__("PIL").__version__


def test_every_latin_face_draws_every_label_character():
    for face in available_fonts():
        if face.cjk:
            continue
        font = ImageFont.truetype(str(face.path), 32, index=face.index, layout_engine=ImageFont.Layout.BASIC)
        missing = bytes(font.getmask("\uffff"))
        drawn = [c for c in ASCII_CHARS.replace(" ", "") if bytes(font.getmask(c)) != missing]
        assert len(drawn) == len(ASCII_CHARS) - 1, (face.name, set(ASCII_CHARS) - set(drawn))


def test_chinese_lines_are_mixed_in_when_a_cjk_face_exists(tmp_path, monkeypatch):
    latin = available_fonts()
    pretend = FontFace(latin[0].path, 0, "pretend CJK", True, latin[0].sha256)
    monkeypatch.setattr(synthetic_text, "available_fonts", lambda: (*latin, pretend))
    texts = read_labelled(render("rec", tmp_path / "zh", 60, seed=1), "recognition").labels
    chinese = [t for t in texts if set(t) & set("".join(synthetic_text._CJK_WORDS) + "年月元")]
    assert 5 <= len(chinese) <= 30 and all(set(t) <= _chinese_chars() for t in chinese)
    assert len(texts) - len(chinese) >= 30


def test_200_rec_lines_render_in_seconds(tmp_path):
    start = time.perf_counter()
    render("rec", tmp_path / "many", 200, seed=7)
    assert time.perf_counter() - start < 20


# --- out_dir handling ----------------------------------------------------------------------------------------------

def test_the_same_render_is_returned_untouched(tmp_path):
    label = render("rec", tmp_path / "r", 4, seed=1)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "r").rglob("*")}
    assert render("rec", tmp_path / "r", 4, seed=1) == label
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "r").rglob("*")} == stamps


def test_a_damaged_render_of_the_same_arguments_is_drawn_anew(tmp_path):
    label = render("det", tmp_path / "d", 2, seed=1)
    whole = _tree(tmp_path / "d")
    (tmp_path / "d" / "images" / "000001.png").unlink()
    assert render("det", tmp_path / "d", 2, seed=1) == label and _tree(tmp_path / "d") == whole


@pytest.mark.parametrize("kind, count, seed, problem", [
    ("rec", 4, 2, r"other arguments: seed 1 \(asked: 2\)"),
    ("rec", 5, 1, r"count 4 \(asked: 5\)"),
    ("cls", 4, 1, r"kind 'rec' \(asked: 'cls'\)"),
])
def test_a_render_of_other_arguments_is_not_overwritten(tmp_path, kind, count, seed, problem):
    render("rec", tmp_path / "r", 4, seed=1)
    before = _tree(tmp_path / "r")
    with pytest.raises(PaddleEdgeError, match=problem) as err:
        render(kind, tmp_path / "r", count, seed=seed)
    assert "delete this one" in err.value.fix and _tree(tmp_path / "r") == before


def test_a_foreign_directory_or_a_file_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(PaddleEdgeError, match="holds no synthetic data"):
        render("rec", tmp_path / "mine", 3)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(PaddleEdgeError, match="is a file"):
        render("rec", tmp_path / "file", 3)


def test_an_empty_directory_is_filled(tmp_path):
    (tmp_path / "empty").mkdir()
    assert len(read_labelled(render("cls", tmp_path / "empty", 3), "classification")) == 3


@pytest.mark.parametrize("kind, count, seed, problem", [
    ("ocr", 3, 0, "unknown synthetic kind 'ocr'"),
    ("rec", 0, 0, "count must be a positive integer"),
    ("rec", True, 0, "count must be a positive integer"),
    ("rec", 2.0, 0, "count must be a positive integer"),
    ("rec", 3, "0", "seed must be an integer"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, kind, count, seed, problem):
    with pytest.raises(PaddleEdgeError, match=problem):
        render(kind, tmp_path / "x", count, seed=seed)
    assert not (tmp_path / "x").exists()


def test_a_failed_render_leaves_nothing_behind(tmp_path, monkeypatch):
    saved: List[str] = []

    def save_then_fail(image, out, index):
        if index == 3:
            raise OSError("disk full")
        saved.append(index)
        return real(image, out, index)

    real = synthetic_text._save
    monkeypatch.setattr(synthetic_text, "_save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        render("rec", tmp_path / "out", 10)
    assert saved == [0, 1, 2] and list(tmp_path.iterdir()) == []
