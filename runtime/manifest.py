"""The bundle manifest (`manifest.json`): the versioned contract between export/ and runtime/.

export/ writes it, runtime/ reads it; nothing else passes between them. A reader refuses any
schema version it does not know, naming the ones it reads.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from .errors import BundleError

# 2: image resize modes (stretch, pad_right, limit_side), BGR, and `postprocess` for the task head; 3: resize mode short_crop;
# 4: the resize's interpolation (opencv: cv2.resize's bilinear, for models preprocessed with OpenCV)
SCHEMA_VERSION = 4
READABLE_SCHEMAS = (1, 2, 3, 4)
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20

Scale = Union[float, List[float]]


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """A model input or output; -1 marks a dynamic dimension."""

    name: str
    shape: Tuple[int, ...]
    dtype: str = "float32"
    layout: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TensorSpec":
        return cls(d["name"], tuple(int(s) for s in d["shape"]), d.get("dtype", "float32"), d.get("layout"))


RESIZE_MODES = ("stretch", "pad_right", "limit_side", "short_crop")
# pillow: Pillow's bilinear filter (averaging what it shrinks); opencv: cv2.resize's INTER_LINEAR (runtime/opencv_resize.py)
INTERPOLATIONS = ("pillow", "opencv")
COLORS = ("L", "RGB", "BGR")


@dataclasses.dataclass(frozen=True)
class Resize:
    """How an image takes the model's size.

    `stretch`: to height x width. `pad_right`: to `height` keeping the aspect ratio, then padded on the right with zeros
    (after normalisation) to `width`, squeezed if wider; with `grow`, a wider image widens the whole batch instead (as
    PaddleOCR's rec batches do). `limit_side`: scaled so the short side (`limit` "min") reaches at least `side`, or the long
    side ("max") at most `side`, then each side rounded to a multiple of `multiple` (PaddleOCR's det). `short_crop`: scaled
    so the short side is `side`, then the centre height x width cut out (PaddleClas's ResizeImage resize_short + CropImage).
    `interpolation`: one of INTERPOLATIONS, the library the model's own preprocessing resizes with."""

    mode: str
    height: int = 0
    width: int = 0
    grow: bool = False
    side: int = 0
    limit: str = "min"
    multiple: int = 32
    interpolation: str = "pillow"

    def __post_init__(self) -> None:
        if self.mode not in RESIZE_MODES:
            raise ValueError(f"resize mode {self.mode!r} is not one of {RESIZE_MODES}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"resize interpolation {self.interpolation!r} is not one of {INTERPOLATIONS}")
        sizes = {"limit_side": (self.side, self.multiple), "short_crop": (self.height, self.width, self.side)}.get(self.mode, (self.height, self.width))
        if min(sizes) <= 0 or self.limit not in ("min", "max"):
            raise ValueError(f"resize {self.mode} needs positive sizes and limit min or max: {self}")
        if self.mode == "short_crop" and self.side < max(self.height, self.width):
            raise ValueError(f"resize short_crop cuts {self.height} x {self.width} out of an image whose short side is {self.side}: "
                             "the short side must be at least the crop's larger side")

    @property
    def fixed_size(self) -> Optional[Tuple[int, int]]:
        """(height, width) every image gets, or None where it depends on the image."""
        fixed = self.mode in ("stretch", "short_crop") or (self.mode == "pad_right" and not self.grow)
        return (self.height, self.width) if fixed else None


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """How an image file becomes a model input before normalisation: colour order, resize, MNIST's ink inversion."""

    color: str
    resize: Resize
    invert_light_background: bool = False

    def __post_init__(self) -> None:
        if self.color not in COLORS:
            raise ValueError(f"image colour {self.color!r} is not one of {COLORS}")

    @property
    def channels(self) -> int:
        return 1 if self.color == "L" else 3

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ImageSpec":
        resize = Resize(**d["resize"]) if "resize" in d else Resize("stretch", int(d["size"][0]), int(d["size"][1]))  # schema 1
        return cls(d["color"], resize, bool(d.get("invert_light_background", False)))


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """Raw values (pixels 0..255 or table features) to model inputs: x * scale + offset, per channel or feature."""

    scale: Scale = 1.0
    offset: Scale = 0.0
    image: Optional[ImageSpec] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Preprocess":
        image = d.get("image")
        return cls(d.get("scale", 1.0), d.get("offset", 0.0), ImageSpec.from_dict(image) if image else None)


# formats of files that are another artifact's parameters: they run only with it
PARAMETER_FORMATS = ("paddle-params", "paddlejs-params")


@dataclasses.dataclass(frozen=True)
class Artifact:
    """One file of the bundle, with what it is and how to check it."""

    path: str
    format: str
    precision: str
    sha256: str
    bytes: int
    target: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Artifact":
        return cls(d["path"], d["format"], d["precision"], d["sha256"], int(d["bytes"]), d.get("target"))


@dataclasses.dataclass(frozen=True)
class Manifest:
    """Everything the runtime needs to load, feed and check a bundle."""

    model: str
    task: str
    inputs: Tuple[TensorSpec, ...]
    outputs: Tuple[TensorSpec, ...]
    preprocess: Preprocess
    artifacts: Dict[str, Artifact]
    labels: Optional[Tuple[str, ...]] = None
    source: Dict[str, Any] = dataclasses.field(default_factory=dict)
    quantization: Optional[Dict[str, Any]] = None
    accuracy: Dict[str, Any] = dataclasses.field(default_factory=dict)
    toolchain: Dict[str, str] = dataclasses.field(default_factory=dict)
    # the task head's settings (text_detection: DB thresholds; classification: whether outputs are already probabilities)
    postprocess: Dict[str, Any] = dataclasses.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Manifest":
        version = d.get("schema_version")
        if version not in READABLE_SCHEMAS:
            raise BundleError(
                f"manifest schema version {version!r} is not one this release reads ({', '.join(map(str, READABLE_SCHEMAS))})",
                "re-export the bundle with this release of paddle-edge, or upgrade paddle-edge on this machine",
            )
        try:
            labels = d.get("labels")
            return cls(
                model=d["model"],
                task=d["task"],
                inputs=tuple(TensorSpec.from_dict(t) for t in d["inputs"]),
                outputs=tuple(TensorSpec.from_dict(t) for t in d["outputs"]),
                preprocess=Preprocess.from_dict(d.get("preprocess", {})),
                artifacts={k: Artifact.from_dict(v) for k, v in d["artifacts"].items()},
                labels=tuple(labels) if labels else None,
                source=d.get("source", {}),
                quantization=d.get("quantization"),
                accuracy=d.get("accuracy", {}),
                toolchain=d.get("toolchain", {}),
                postprocess=d.get("postprocess", {}),
                schema_version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"manifest is missing or mistypes a field: {exc!r}", "re-export the bundle") from exc

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        try:
            if Path(path).stat().st_size > MAX_MANIFEST_BYTES:
                raise BundleError(f"{path} is larger than a manifest can be ({MAX_MANIFEST_BYTES:,} bytes)",
                                  "this is not a paddle-edge manifest; re-export the bundle")
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(f"{path} is not UTF-8 text ({exc})", "re-export the bundle; the file is damaged") from exc
        except FileNotFoundError as exc:
            raise BundleError(f"no {MANIFEST_NAME} at {path}", "point at a directory written by `paddle-edge export`") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BundleError(f"{path} is not valid JSON ({exc})", "re-export the bundle; the file is damaged") from exc
        return cls.from_dict(data)

    def precisions(self, fmt: str) -> Tuple[str, ...]:
        """The precisions this bundle has artifacts of format `fmt` for, e.g. ("fp32", "int8")."""
        return tuple(sorted({a.precision for a in self.artifacts.values() if a.format == fmt}))

    def pick(self, fmt: str, precision: str, target: Optional[str] = None, prefer: Optional[str] = None) -> Tuple[str, Artifact]:
        """The artifact of this format and precision: of `target` if given (Lite's arch); else the one made for `prefer`
        (this CPU's kind, runtime/cpu.py, or the backend's, runtime/backends) if the bundle has it, else one made for
        any CPU (no target)."""
        found = [(n, a) for n, a in self.artifacts.items() if a.format == fmt and a.precision == precision
                 and (target is None or a.target == target)]
        for wanted in ((prefer, None) if target is None else (target,)):
            for name, art in found:
                if art.target == wanted:
                    return name, art
        if found and target is None:
            return found[0]
        have = ", ".join(f"{a.format}/{a.precision}" + (f"/{a.target}" if a.target else "") for a in self.artifacts.values())
        raise BundleError(
            f"bundle has no {fmt} {precision} artifact" + (f" for target {target}" if target else "") + f" (it has: {have})",
            "choose another precision or backend, or re-export with that artifact",
        )
