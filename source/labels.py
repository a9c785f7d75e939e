"""A user's labelled images, read from the list and folder formats PaddleOCR and PaddleClas users already have.

Kinds and their layouts:
- classification: class folders DIR/<label>/*.png, or a list file of `path<TAB>label` lines (PaddleClas's `path label`,
  with exactly one space, is accepted on a line without a tab);
- recognition: PaddleOCR's rec_gt list, `path<TAB>text` (the text may hold spaces, not tabs);
- detection: PaddleOCR's det label list, `path<TAB>[{"transcription": "...", "points": [[x, y], ...]}, ...]`;
- unlabelled (calibration, float-vs-int8 agreement): a folder of images, searched recursively, or the images any of the
  list files above names, their labels unread.

List files are UTF-8 (a BOM and CRLF line ends are accepted, blank lines skipped); listed paths are relative to the list
file's folder. Images are checked to have an image extension and to exist, never decoded: the runtime's loader decodes
them, and only it can tell whether the points of a region fall inside its image. A region's polygon must have three or
more finite points, edges that do not cross (corners out of order) and an area. Every bad line is reported at once, by
line number."""
from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple, Union

import numpy as np

from ..runtime.errors import PaddleEdgeError

KINDS = ("classification", "recognition", "detection", "unlabelled")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
IGNORED_TRANSCRIPTIONS = ("###", "*")  # PaddleOCR's DetLabelEncode: unreadable text, neither a hit nor a miss
_SHOWN_PROBLEMS = 10


class TextRegion(NamedTuple):
    """One text region of a detection image: its polygon (N x 2 float32 pixels, read-only), text and ignore flag."""

    points: np.ndarray
    transcription: str
    ignore: bool


Label = Union[str, Tuple[TextRegion, ...]]


@dataclass(frozen=True)
class LabelledImages:
    """Image paths and one label per image: the class name as written (classification), the text (recognition),
    the text regions (detection); `labels` is None for unlabelled images."""

    kind: str
    source: Path
    images: Tuple[Path, ...]
    labels: Optional[Tuple[Label, ...]]

    def __len__(self) -> int:
        return len(self.images)


class _BadLine(Exception):
    """Why one line of a list file cannot be read, and what to change."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def detect_kind(path: Path) -> str:
    """The kind `path`'s layout shows: a folder of two or more class folders is classification, a folder of images
    only is unlabelled; a list file whose first label is a JSON list is detection, one whose first line is split by a
    single space is classification (PaddleClas). Raises where the layout does not tell, asking for the kind: a list of
    `path<TAB>label` lines (recognition texts or class names?), a folder with one folder of images (one class, or
    nested images?), a folder holding list files."""
    path = Path(path)
    if path.is_dir():
        return _folder_kind(path)
    if not path.is_file():
        raise PaddleEdgeError(f"{path} does not exist", "pass a list file or a folder of images")
    number, line = _read_lines(path)[0]
    if "\t" not in line and line.count(" ") == 1:
        return "classification"
    if "\t" not in line:
        raise PaddleEdgeError(f"{path}: line {number}: no tab between the image path and its label",
                              "write `path<TAB>label` lines (classification also takes `path label`)")
    try:
        first = json.loads(line.split("\t", 1)[1])
    except ValueError:
        first = None
    if isinstance(first, list):
        return "detection"
    raise PaddleEdgeError(f"{path}: a list of `path<TAB>label` lines may hold recognition texts or class names",
                          "say which: kind 'recognition' or 'classification'")


def read_labelled(path: Path, kind: Optional[str] = None) -> LabelledImages:
    """The images and labels at `path`, a list file or a folder, of `kind` (one of KINDS; None: `detect_kind`)."""
    path = Path(path)
    if not path.exists():
        raise PaddleEdgeError(f"{path} does not exist", "pass a list file or a folder of images")
    kind = detect_kind(path) if kind is None else kind
    if kind not in KINDS:
        raise PaddleEdgeError(f"unknown label kind {kind!r}", f"use one of {', '.join(KINDS)}")
    if path.is_dir():
        if kind == "unlabelled":
            return LabelledImages(kind, path, _images_under(path), None)
        if kind == "classification":
            return _class_folders(path)
        raise PaddleEdgeError(f"{kind} labels come in a list file; {path} is a folder",
                              "pass the list file of `path<TAB>label` lines")
    return _read_list(path, kind)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def _visible_dirs(folder: Path) -> List[Path]:
    return [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def _folder_kind(folder: Path) -> str:
    """classification or unlabelled, from what a folder holds; raises where the layout does not say."""
    lists = sorted(p.name for p in folder.glob("*.txt"))
    if lists:
        raise PaddleEdgeError(f"{folder} holds list files ({', '.join(lists[:3])})", "pass the list file itself")
    loose = any(_is_image(p) for p in folder.iterdir())
    classes = [d for d in _visible_dirs(folder) if any(_is_image(p) for p in d.iterdir())]
    if loose and classes:
        raise PaddleEdgeError(f"{folder} holds both images and folders of images",
                              "move the images into class folders, or say kind 'unlabelled' to read them all")
    if loose:
        return "unlabelled"
    if len(classes) >= 2:
        return "classification"
    if classes:
        raise PaddleEdgeError(f"{folder} holds one folder of images ({classes[0].name}/): one class, or nested images",
                              "say which: kind 'classification' or 'unlabelled'")
    raise PaddleEdgeError(f"no images ({' '.join(IMAGE_EXTENSIONS)}) in {folder} or its class folders",
                          "pass a folder of images, a folder of class folders, or a list file")


def _images_under(folder: Path) -> Tuple[Path, ...]:
    """Every image under `folder`, hidden files and folders skipped, in sorted order."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root, n) for n in sorted(names) if _is_image(Path(root, n))]
    if not found:
        raise PaddleEdgeError(f"no images ({' '.join(IMAGE_EXTENSIONS)}) in {folder}", "pass a folder holding images")
    return tuple(found)


def _class_folders(folder: Path) -> LabelledImages:
    """DIR/<label>/*: one class per visible sub-folder, its images directly inside it."""
    loose = [p.name for p in sorted(folder.iterdir()) if _is_image(p)]
    if loose:
        raise PaddleEdgeError(f"{folder} holds images beside its class folders ({', '.join(loose[:3])})",
                              "move them into a class folder DIR/<label>/")
    classes = _visible_dirs(folder)
    if not classes:
        raise PaddleEdgeError(f"no class folders in {folder}", "lay the images out as DIR/<label>/*.png")
    images: List[Path] = []
    labels: List[str] = []
    empty = []
    for class_dir in classes:
        found = [p for p in sorted(class_dir.iterdir()) if _is_image(p)]
        if not found:
            empty.append(class_dir.name + "/")
        images += found
        labels += [class_dir.name] * len(found)
    if empty:
        raise PaddleEdgeError(f"class folders without images ({' '.join(IMAGE_EXTENSIONS)}) in {folder}: "
                              f"{', '.join(empty)}", "put images in each class folder, or remove the empty ones")
    return LabelledImages("classification", folder, tuple(images), tuple(labels))


def _read_lines(list_file: Path) -> List[Tuple[int, str]]:
    """(line number, line) of every non-blank line of a UTF-8 list file."""
    try:
        data = list_file.read_bytes()
    except OSError as e:
        raise PaddleEdgeError(f"cannot read {list_file}: {e.strerror}", "check the path and its permissions") from e
    data = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise PaddleEdgeError(f"{list_file}: line {line}: not UTF-8 ({e.reason}, byte 0x{data[e.start]:02x})",
                              "save the list file as UTF-8, e.g. iconv -f GBK -t UTF-8 old.txt > new.txt") from e
    lines = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1)]
    lines = [(n, line) for n, line in lines if line.strip()]
    if not lines:
        raise PaddleEdgeError(f"{list_file} lists no images", "write one `path<TAB>label` line per image")
    return lines


def _split(line: str, space_ok: bool) -> Tuple[str, str]:
    """(path, label) of one line: split at the first tab, or where `space_ok`, at its only space."""
    if "\t" in line:
        path, label = line.split("\t", 1)
    elif space_ok and line.count(" ") == 1:
        path, label = line.split(" ")
    elif space_ok and " " in line:
        raise _BadLine("no tab, and several spaces: where the path ends is unclear",
                       "separate the image path from its label with a tab")
    else:
        raise _BadLine("no tab between the image path and its label", "write `path<TAB>label`")
    return path, label


def _path_only(line: str) -> str:
    """The image path of a line of any list: before the first tab; without a tab, the whole line, or what comes
    before its only space where the whole line is no image path (PaddleClas's `path label`)."""
    if "\t" in line:
        return line.split("\t", 1)[0]
    if line.count(" ") == 1 and Path(line).suffix.lower() not in IMAGE_EXTENSIONS:
        return line.split(" ")[0]
    return line


def _image(folder: Path, raw: str) -> Path:
    """The image a line names, checked to be an image file that exists."""
    if not raw.strip():
        raise _BadLine("empty image path", "start each line with the image path")
    if Path(raw).suffix.lower() not in IMAGE_EXTENSIONS:
        raise _BadLine(f"{raw!r} is not an image file ({' '.join(IMAGE_EXTENSIONS)})", "list image files only")
    path = folder / raw
    if not path.is_file():
        raise _BadLine(f"image {raw!r} does not exist (looked for {path})",
                       "fix or remove the line; paths are relative to the list file's folder")
    return path


def _label(kind: str, raw: str, column: int) -> Label:
    """The label of one line of a `kind` list; `column` is where it starts in the line."""
    if kind == "detection":
        return _regions(raw, column)
    if not raw.strip():
        raise _BadLine(f"empty {'class' if kind == 'classification' else 'text'} after the path",
                       "write the label after the tab, or remove the line")
    if "\t" in (raw.strip() if kind == "classification" else raw):
        raise _BadLine("more than one tab", "write `path<TAB>label` with no further tab (PaddleOCR drops what follows)")
    return raw.strip() if kind == "classification" else raw


def _regions(raw: str, column: int) -> Tuple[TextRegion, ...]:
    """The regions of a det label: a JSON list of {"transcription", "points"} objects; `column` is where it starts."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise _BadLine(f"bad JSON at column {column + e.pos + 1}: {e.msg}",
                       'write the regions as a JSON list: [{"transcription": "...", "points": [[x, y], ...]}]') from e
    if not isinstance(value, list):
        raise _BadLine(f"the label is a JSON {type(value).__name__}, not a list of regions",
                       'write the regions as a JSON list: [{"transcription": "...", "points": [[x, y], ...]}]')
    return tuple(_region(number, item) for number, item in enumerate(value, 1))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _region(number: int, item: object) -> TextRegion:
    """One det region, checked: a text, and a polygon of three or more finite points that encloses an area and whose
    edges do not cross (corners out of order)."""
    where = f"region {number}"
    if not isinstance(item, dict) or not isinstance(item.get("transcription"), str) or "points" not in item:
        raise _BadLine(f"{where} is not an object with a \"transcription\" string and \"points\"",
                       'write each region as {"transcription": "...", "points": [[x, y], ...]}')
    points = item["points"]
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 and all(map(_is_number, p))
                                               for p in points):
        raise _BadLine(f"{where}: points are not a list of [x, y] number pairs", "write points as [[x, y], ...]")
    if len(points) < 3:
        raise _BadLine(f"{where} has {len(points)} point(s); a polygon needs at least 3",
                       "give every corner of the text region (4 for a quad)")
    corners = np.array(points, dtype=np.float64)
    if not np.isfinite(corners).all():
        raise _BadLine(f"{where} has a non-finite coordinate (NaN or Infinity)", "give pixel coordinates")
    if _edges_cross(corners):
        raise _BadLine(f"{where}: the polygon's edges cross (corners out of order?)",
                       "list the corners in order around the region, clockwise from top-left")
    if _area(corners) == 0:
        raise _BadLine(f"{where} encloses no area (its points lie on one line)", "give the corners of the region")
    region = corners.astype(np.float32)
    region.flags.writeable = False
    return TextRegion(region, item["transcription"], item["transcription"] in IGNORED_TRANSCRIPTIONS)


def _area(corners: np.ndarray) -> float:
    x, y = corners[:, 0], corners[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def _turn(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Sign of the turn a -> b -> c: 1 one way, -1 the other, 0 straight on."""
    return float(np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))


def _edges_cross(corners: np.ndarray) -> bool:
    """True if two non-adjacent edges cross at a point inside both (edges that only touch are not flagged)."""
    n = len(corners)
    edges = [(corners[i], corners[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n - 1 if i == 0 else n):  # the last edge shares a corner with the first
            (a, b), (c, d) = edges[i], edges[j]
            if _turn(a, b, c) * _turn(a, b, d) < 0 and _turn(c, d, a) * _turn(c, d, b) < 0:
                return True
    return False


def _read_list(list_file: Path, kind: str) -> LabelledImages:
    """The images and labels (none for `unlabelled`) of a list file; every bad line is collected and reported in one
    error."""
    folder = list_file.parent.absolute()
    images: List[Path] = []
    labels: List[Label] = []
    problems: List[Tuple[int, _BadLine]] = []
    for number, line in _read_lines(list_file):
        try:
            if kind == "unlabelled":
                raw_path, label = _path_only(line), ""
            else:
                raw_path, raw_label = _split(line, space_ok=kind == "classification")
                label = _label(kind, raw_label, len(raw_path) + 1)
            images.append(_image(folder, raw_path))
            labels.append(label)
        except _BadLine as bad:
            problems.append((number, bad))
    if problems:
        shown = [f"  line {number}: {bad.reason}" for number, bad in problems[:_SHOWN_PROBLEMS]]
        if len(problems) > _SHOWN_PROBLEMS:
            shown.append(f"  ... and {len(problems) - _SHOWN_PROBLEMS} more")
        fixes = dict.fromkeys(bad.fix for _, bad in problems)
        raise PaddleEdgeError(f"{list_file}: {len(problems)} bad line(s) in this {kind} list:\n" + "\n".join(shown),
                              "; ".join(fixes))
    return LabelledImages(kind, list_file, tuple(images), None if kind == "unlabelled" else tuple(labels))
