"""Synthetic OCR data: each kind read back by source/labels.py, byte-identical per seed, rec lines mixing Chinese
(Noto CJK) and Latin text the recogniser's dictionary holds, det pages hard (clutter, small, tilted, coloured,
low-contrast and degraded text) yet labelled truthfully: every labelled line can be seen, its quad holds all its ink
and no other text is drawn; cls images the rec images turned, and out_dir never overwritten unless it holds this very
render."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.files import sha256_file
from paddle_edge.runtime.ocr_metrics import polygon_iou
from paddle_edge.source import fonts as font_source
from paddle_edge.source import synthetic_text, text_pages, text_words
from paddle_edge.source.fetch import fetch_published
from paddle_edge.source.labels import read_labelled
from paddle_edge.source.synthetic_text import (ASCII_CHARS, CJK_CHARS, LABEL_KINDS, MANIFEST, available_fonts,
                                               render)

SEED = 3
COUNT = {"rec": 40, "cls": 40, "det": 8}


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("synthetic")
    return {kind: render(kind, root / kind, count, seed=SEED) for kind, count in COUNT.items()}


@pytest.fixture(scope="module")
def pages(sets):
    """The det set's pages drawn again in memory: each image with its lines and the alpha of its text alone."""
    fonts, load = available_fonts(), synthetic_text._loader()
    return [text_pages.draw_page(random.Random(f"{SEED}:page:{i}"), fonts, load) for i in range(COUNT["det"])]


def _tree(folder: Path) -> Dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _chinese(text: str) -> bool:
    return any(ord(c) > 0x2E7F for c in text)


def _luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int32)
    return (299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2]) // 1000


def test_rec_lines_read_back_with_their_texts(sets):
    got = read_labelled(sets["rec"], LABEL_KINDS["rec"])
    assert len(got) == COUNT["rec"] and got.images[0] == sets["rec"].parent / "images" / "000000.png"
    allowed = set(ASCII_CHARS) | set(CJK_CHARS)
    for image, text in zip(got.images, got.labels):
        assert set(text) <= allowed and text == text.strip() and "  " not in text
        assert 2 <= len(text) and text_words._width(text) <= 24
        with Image.open(image) as line:
            assert line.format == "PNG" and line.mode == "RGB"
            assert 24 <= line.height <= 80 and line.width > line.height
    joined = "".join(got.labels)
    assert any(c.isupper() for c in joined) and any(c.islower() for c in joined) and any(c.isdigit() for c in joined)
    assert set(joined) & set(".,:;-/()%$#@&+'") and len({len(t) for t in got.labels}) > 5
    assert 6 <= sum(map(_chinese, got.labels)) <= 26


def test_rec_lines_are_dark_text_on_light_ground_filling_most_of_the_height(sets):
    """The ink spans most of a line's height, Chinese lines too (Noto CJK's ascent and descent leave half an em of air,
    which a recogniser resizing lines to 48 px high would pay for in glyph size)."""
    got = read_labelled(sets["rec"], "recognition")
    filled = {True: [], False: []}
    for image, text in zip(got.images, got.labels):
        grey = _pixels(image).mean(axis=2)
        assert np.median(grey) > 180 and grey.min() < 110
        rows = np.nonzero((grey < 140).any(axis=1))[0]
        filled[_chinese(text)].append((rows[-1] - rows[0] + 1) / grey.shape[0])
    assert min(filled[False]) >= 0.4 and min(filled[True]) >= 0.5
    assert np.median(filled[True]) >= 0.62  # cropped to ascent + descent, the median would be 0.55


def test_cls_turns_exactly_half_and_a_turned_image_is_the_rec_image_upside_down(sets):
    cls = read_labelled(sets["cls"], LABEL_KINDS["cls"])
    rec = read_labelled(sets["rec"], "recognition")
    assert len(cls) == COUNT["cls"] and cls.labels.count("180") == COUNT["cls"] // 2
    assert set(cls.labels) == {"0", "180"}
    for cls_image, rec_image, label in zip(cls.images, rec.images, cls.labels):
        want = _pixels(rec_image)
        np.testing.assert_array_equal(_pixels(cls_image), want[::-1, ::-1] if label == "180" else want)


def test_det_pages_read_back_with_disjoint_quads_inside_the_page(sets):
    got = read_labelled(sets["det"], LABEL_KINDS["det"])
    assert len(got) == COUNT["det"]
    tilted = 0
    for image, regions in zip(got.images, got.labels):
        with Image.open(image) as page:
            width, height = page.size
        assert 640 <= width <= 960 and 480 <= height <= 720
        assert 1 <= len(regions) <= 40
        for region in regions:
            assert region.points.shape == (4, 2) and not region.ignore and region.transcription.strip()
            assert (region.points >= 0).all() and (region.points[:, 0] <= width).all()
            assert (region.points[:, 1] <= height).all()
            tl, tr, br, bl = region.points
            assert tr[0] > tl[0] and bl[1] > tl[1], "clockwise from top-left"
            tilted += abs(float(tr[1] - tl[1])) >= 2
        for i, a in enumerate(regions):
            for b in regions[i + 1:]:
                assert polygon_iou(a.points, b.points) == 0.0, (a.transcription, b.transcription)
    assert tilted >= 4 and sum(map(len, got.labels)) >= 8 * COUNT["det"]


def test_det_files_are_the_pages_drawn_in_memory(sets, pages):
    got = read_labelled(sets["det"], "detection")
    for image, regions, page in zip(got.images, got.labels, pages):
        np.testing.assert_array_equal(_pixels(image), np.asarray(page.image))
        assert [r.transcription for r in regions] == [line.text for line in page.lines]
        assert [r.points.tolist() for r in regions] == [line.quad for line in page.lines]


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


def test_det_quads_hold_all_the_text_and_are_tight(pages):
    """Measured on the text alone (the clutter and the degradations are not text): no text outside the quads, and
    every side of a quad touches its line's ink."""
    for page in pages:
        text = np.asarray(page.text)
        size = page.image.size
        quads = [np.array(line.quad, dtype=np.float64) for line in page.lines]
        assert text[~_polygon_mask(size, quads, grow=2)].max() <= 2, "text outside every quad"  # a turned line's
        assert text[~_polygon_mask(size, quads, grow=3)].max() == 0, "text outside every quad"  # resampling: 1/255
        ys, xs = np.nonzero(text > 60)
        ink = np.stack([xs + 0.5, ys + 0.5], axis=1)
        for line, quad in zip(page.lines, quads):
            own = ink[_polygon_mask(size, [quad], grow=2)[ys, xs]]
            assert len(own) > 10, line.text
            for k in range(4):
                p, q = quad[k], quad[(k + 1) % 4]
                edge = q - p
                distance = np.abs(edge[0] * (own[:, 1] - p[1]) - edge[1] * (own[:, 0] - p[0])) / np.hypot(*edge)
                assert distance.min() <= 2.0, f"{line.text!r}: side {k} is {distance.min():.1f} px off the ink"


def test_clutter_keeps_off_the_lines(pages):
    for page in pages:
        clutter = np.asarray(page.clutter)
        near = _polygon_mask(page.image.size, [line.corners for line in page.lines], grow=3)
        assert clutter[near].max() == 0 and (clutter[~near] == 255).sum() > 500


def _contrasts(page, line) -> List[float]:
    """The grey-level difference between a line's text and the ground around it in the final image, in each quarter
    of the line's length (text pixels: the text alone's alpha at 128 or more; ground: the quad grown by 2 pixels where
    no text is)."""
    size = page.image.size
    quad = np.array(line.corners, dtype=np.float64)
    near = _polygon_mask(size, [quad], grow=2)
    alpha = np.asarray(page.text)
    luma = _luma(np.asarray(page.image))
    ys, xs = np.nonzero(near)
    along = quad[1] - quad[0]
    share = ((xs - quad[0][0]) * along[0] + (ys - quad[0][1]) * along[1]) / (along @ along)
    found = []
    for k in range(4):
        part = (share >= k / 4) & (share < (k + 1) / 4) if k < 3 else share >= 0.75
        text, ground = part & (alpha[ys, xs] >= 128), part & (alpha[ys, xs] == 0)
        if text.sum() >= 3 and ground.sum() >= 3:
            ink, around = np.median(luma[ys[text], xs[text]]), np.median(luma[ys[ground], xs[ground]])
            found.append(abs(float(ink) - float(around)))
    return found


def test_every_labelled_line_can_be_seen_along_its_whole_length(pages):
    """Hard is not hidden: each quarter of every line stands out from the ground around it in the final image, after
    shading, blur, resampling and grain (the ink was chosen 35 or more grey levels from all of its ground)."""
    weakest = []
    for page in pages:
        for line in page.lines:
            contrasts = _contrasts(page, line)
            assert contrasts, line.text
            weakest.append(min(contrasts))
    assert min(weakest) >= 12, sorted(weakest)[:5]
    assert sum(w < 70 for w in weakest) >= 5  # and some lines are low-contrast


def test_det_pages_are_varied_and_cluttered(pages):
    heights, light_on_dark, coloured, busy, chinese = [], 0, 0, 0, 0
    for page in pages:
        rgb = np.asarray(page.image).astype(np.int32)
        alpha = np.asarray(page.text)
        quads = [np.array(line.corners) for line in page.lines]
        for line, quad in zip(page.lines, quads):
            heights.append(float(np.hypot(*(quad[3] - quad[0]))))
            mine = _polygon_mask(page.image.size, [quad], grow=2)
            text, ground = rgb[mine & (alpha >= 128)], rgb[mine & (alpha == 0)]
            ink = np.median(text, axis=0)
            light_on_dark += _luma(ink) > _luma(np.median(ground, axis=0))
            coloured += ink.max() - ink.min() >= 60
            chinese += _chinese(line.text)
        away = ~_polygon_mask(page.image.size, quads, grow=6)
        luma = _luma(rgb)
        edges = np.abs(np.diff(luma, axis=1))[away[:, 1:] & away[:, :-1]]
        busy += (edges > 60).sum() >= 200  # rules, frames, bar codes, hatching, scribbles, shapes: not text
    assert min(heights) <= 11 and max(heights) >= 28, (min(heights), max(heights))
    assert sum(h <= 12 for h in heights) >= 5
    assert light_on_dark >= 5 and coloured >= 5 and chinese >= 10
    assert busy >= COUNT["det"] // 2


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
    assert manifest["format"] == synthetic_text.FORMAT == 2
    names = [font["name"] for font in manifest["fonts"]]
    assert "DejaVu Sans Book" in names and "DejaVu Serif Bold" in names
    assert {"Noto Sans CJK SC Regular", "Noto Sans CJK SC Bold", "Noto Sans Mono CJK SC Regular",
            "Noto Serif CJK SC Regular", "Noto Serif CJK SC Bold"} <= set(names)
    assert not any(n.endswith((" JP", " KR", " TC", " HK")) or " JP " in n for n in names)
    for font in manifest["fonts"]:
        assert sha256_file(Path(font["file"])) == font["sha256"]
    assert manifest["pillow"] == __import__("PIL").__version__


def _draws(font: ImageFont.FreeTypeFont, chars: str) -> List[str]:
    missing = bytes(font.getmask("\uffff"))
    return [c for c in chars if bytes(font.getmask(c)) != missing]


def test_every_face_draws_every_character_of_its_lines():
    latin = ASCII_CHARS.replace(" ", "")
    for face in available_fonts():
        font = ImageFont.truetype(str(face.path), 32, index=face.index, layout_engine=ImageFont.Layout.BASIC)
        chars = latin + CJK_CHARS if face.cjk else latin
        assert _draws(font, chars) == list(chars), (face.name, set(chars) - set(_draws(font, chars)))


def test_every_character_drawn_is_in_the_recognisers_dictionary():
    keys = set((fetch_published("ppocr-rec") / "ppocr_keys_v1.txt").read_text(encoding="utf-8").splitlines())
    assert len(keys) > 6000
    assert set(CJK_CHARS) | set(ASCII_CHARS.replace(" ", "")) <= keys
    assert set(CJK_CHARS) >= set("".join(text_words._CJK_WORDS)) and len(text_words._CJK_WORDS) >= 100


def test_chinese_lines_mix_words_numbers_and_latin(tmp_path):
    texts = read_labelled(render("rec", tmp_path / "zh", 100, seed=1), "recognition").labels
    chinese = [t for t in texts if _chinese(t)]
    assert 25 <= len(chinese) <= 55 and all(set(t) <= set(CJK_CHARS) | set(ASCII_CHARS) for t in chinese)
    assert sum(any(c.isdigit() for c in t) for t in chinese) >= 10
    assert sum(any(c.isascii() and c.isalpha() for c in t) for t in chinese) >= 5  # Latin words inside Chinese lines
    for text in chinese:  # a space only between two Latin characters; no line opens or ends with a mark
        for k, char in enumerate(text):
            if char == " ":
                assert not _chinese(text[k - 1]) and not _chinese(text[k + 1]), text
        assert text[0] not in "，、：" and text[-1] not in "，、："
    assert len(texts) - len(chinese) >= 40


def test_without_the_chinese_fonts_nothing_is_rendered_and_the_error_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(font_source, "SYSTEM_DIR", tmp_path / "none")
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(font_source.FontFetchError, match="Noto CJK") as err:
        render("rec", tmp_path / "out", 3)
    assert "apt-get install -y fonts-noto-cjk" in err.value.fix and not (tmp_path / "out").exists()


def test_200_rec_lines_render_in_seconds(tmp_path):
    start = time.perf_counter()
    render("rec", tmp_path / "many", 200, seed=7)
    assert time.perf_counter() - start < 20


def test_12_det_pages_render_in_seconds(tmp_path):
    start = time.perf_counter()
    render("det", tmp_path / "pages", 12, seed=7)
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
