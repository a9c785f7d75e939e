"""A model's pre- and post-processing from a PaddleOCR / PaddleClas / PaddleX `inference.yml`, the file their exports write
beside an inference model, and the format `export --preprocess FILE` reads for a model that ships without one.

The transform list becomes the manifest's Preprocess (resize mode, colour order, x * scale + offset per channel); the
PostProcess section chooses the task head and its settings. An op or key this reader does not know is refused by name:
silently skipping a step would feed the model other inputs than it was trained on.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..runtime.db_boxes import DbParams
from ..runtime.errors import InputError, PaddleEdgeError
from ..runtime.manifest import ImageSpec, Preprocess, Resize

CONFIG_NAME = "inference.yml"
# Steps that only matter in training (label encoders) or that the runtime always does (HWC -> CHW, which keys to keep).
IGNORED_OPS = ("ToCHWImage", "KeepKeys", "DetLabelEncode", "CTCLabelEncode", "MultiLabelEncode", "ClsLabelEncode")
PADDLEOCR_NORM = {"scale": 1 / 255, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}  # what RecResizeImg/ClsResizeImg apply
DB_KEYS = {"thresh": float, "box_thresh": float, "max_candidates": int, "unclip_ratio": float, "use_dilation": bool}
# What each head's section may name besides its name (DBPostProcess: DB_KEYS and its two modes); anything else is refused
HEAD_KEYS = {"CTCLabelDecode": ("character_dict_path", "character_dict", "use_space_char"),
             "ClsPostProcess": ("label_list",), "Topk": ("topk", "label_list", "class_id_map_file", "delimiter")}


class ConfigError(PaddleEdgeError):
    """An inference.yml (or --preprocess file) this reader cannot turn into preprocessing."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """What a model's config says: its task, how images become inputs, how outputs become answers."""

    task: str
    preprocess: Preprocess
    postprocess: Dict[str, Any]
    labels: Optional[Tuple[str, ...]]
    name: Optional[str] = None


@dataclasses.dataclass
class _Steps:
    """The transform list as it is read, op by op."""

    color: str = "RGB"
    resize: Optional[Resize] = None
    norm: Optional[Dict[str, Any]] = None
    short_side: Optional[int] = None  # ResizeImage resize_short, waiting for the CropImage that fixes the size
    interpolation: str = "opencv"  # PaddleOCR resizes with OpenCV; PaddleClas with OpenCV unless its backend is pil


def _number(value: Any, where: str) -> float:
    """A YAML number, or PaddleOCR's string fraction such as "1./255."."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"\s*([0-9.]+)\s*/\s*([0-9.]+)\s*", str(value))
    if match and float(match.group(2)) != 0:
        return float(match.group(1)) / float(match.group(2))
    raise ValueError(f"{where} must be a number or a fraction like 1./255., not {value!r}")


def _shape(args: Dict[str, Any], op: str) -> Tuple[int, int, int]:
    shape = args.get("image_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape) and shape[0] in (1, 3)):
        raise ValueError(f"{op}.image_shape must be [channels (1 or 3), height, width] of positive integers, not {shape!r}")
    return shape[0], shape[1], shape[2]


def _decode(steps: _Steps, args: Dict[str, Any]) -> None:
    if "img_mode" in args and "to_rgb" in args:
        raise ValueError("DecodeImage names its colour twice (img_mode, PaddleOCR's key, and to_rgb, PaddleClas's): keep one")
    modes = {"BGR": "BGR", "RGB": "RGB", "GRAY": "L"}
    if args.get("img_mode", "BGR") not in modes:
        raise ValueError(f"DecodeImage.img_mode must be one of {list(modes)}, not {args.get('img_mode')!r}")
    if args.get("channel_first"):
        raise ValueError("DecodeImage.channel_first: true is not supported (images are decoded channels-last)")
    steps.color = modes[args.get("img_mode", "BGR")]
    if "to_rgb" in args:  # PaddleClas's spelling: decoded BGR (OpenCV's order), turned to RGB if to_rgb
        steps.color = "RGB" if args["to_rgb"] else "BGR"


def _det_resize(steps: _Steps, args: Dict[str, Any]) -> None:
    if "image_shape" in args:
        height, width = args["image_shape"][-2:]
        steps.resize = Resize("stretch", int(height), int(width), interpolation="opencv")
    elif "resize_long" in args:
        steps.resize = Resize("limit_side", side=int(args["resize_long"]), limit="max", interpolation="opencv")
    else:
        steps.resize = Resize("limit_side", side=int(args.get("limit_side_len", 736)), limit=str(args.get("limit_type", "min")),
                              interpolation="opencv")


def _text_resize(grow: bool, op: str) -> Callable[[_Steps, Dict[str, Any]], None]:
    def apply(steps: _Steps, args: Dict[str, Any]) -> None:
        channels, height, width = _shape(args, op)
        steps.resize = Resize("pad_right", height, width, grow=grow, interpolation="opencv")
        steps.norm = steps.norm or dict(PADDLEOCR_NORM)
        if channels == 1:
            steps.color = "L"
    return apply


def _size(value: Any, where: str) -> Tuple[int, int]:
    """PaddleClas's size: one side, or [width, height]; as (height, width)."""
    sides = [value, value] if isinstance(value, int) else value
    if not (isinstance(sides, list) and len(sides) == 2 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sides)):
        raise ValueError(f"{where} must be a positive integer or [width, height], not {value!r}")
    return sides[1], sides[0]


def _resize_image(steps: _Steps, args: Dict[str, Any]) -> None:
    # PaddleClas resizes with OpenCV (backend cv2, bilinear unless told) or Pillow (backend pil, bicubic unless told); the
    # runtime repeats either's bilinear resize
    backend, interpolation = args.get("backend", "cv2"), args.get("interpolation")
    if backend not in ("cv2", "pil") or interpolation not in ((None, "bilinear") if backend == "cv2" else ("bilinear",)):
        raise ValueError(f"ResizeImage with backend {backend} and interpolation {interpolation or 'its default'} is not a bilinear "
                         "resize, the one the runtime repeats (OpenCV's or Pillow's); use interpolation: bilinear")
    steps.interpolation = "opencv" if backend == "cv2" else "pillow"
    if ("size" in args) == ("resize_short" in args):
        raise ValueError("ResizeImage needs one of size (stretch to it) and resize_short (scale the short side to it, then CropImage)")
    if "size" in args:
        steps.resize = Resize("stretch", *_size(args["size"], "ResizeImage.size"), interpolation=steps.interpolation)
        return
    short = args["resize_short"]
    if not (isinstance(short, int) and not isinstance(short, bool) and short > 0):
        raise ValueError(f"ResizeImage.resize_short must be a positive integer, not {short!r}")
    steps.short_side = short


def _crop(steps: _Steps, args: Dict[str, Any]) -> None:
    if steps.short_side is None or steps.resize is not None:
        raise ValueError("CropImage is supported after ResizeImage resize_short only (the centre of the scaled image)")
    height, width = _size(args.get("size"), "CropImage.size")
    if steps.short_side < max(height, width):
        raise ValueError(f"ResizeImage.resize_short {steps.short_side} is smaller than CropImage.size {max(height, width)}: the crop "
                         f"would not fit in the scaled image; make resize_short at least {max(height, width)}")
    steps.resize = Resize("short_crop", height, width, side=steps.short_side, interpolation=steps.interpolation)


def _normalize(steps: _Steps, args: Dict[str, Any]) -> None:
    order = args.get("order") or ""  # the layout the image has at this step: the same normalisation per channel either way
    if str(order).lower() not in ("", "hwc", "chw"):
        raise ValueError(f"NormalizeImage.order {order!r} is not hwc or chw")
    if args.get("channel_num", 3) != 3:
        raise ValueError(f"NormalizeImage.channel_num {args['channel_num']!r}: the runtime normalises 3 channels and adds "
                         "no 4th channel of zeros")
    scale = _number(args.get("scale", 1 / 255), "NormalizeImage.scale")
    if not 0 < scale < float("inf"):
        raise ValueError(f"NormalizeImage.scale must be positive (1./255. maps 8-bit pixels to [0, 1]), not {args['scale']!r}")
    steps.norm = {"scale": scale,
                  "mean": args.get("mean", [0.485, 0.456, 0.406]), "std": args.get("std", [0.229, 0.224, 0.225])}


OPS: Dict[str, Callable[[_Steps, Dict[str, Any]], None]] = {
    "DecodeImage": _decode, "DetResizeForTest": _det_resize, "RecResizeImg": _text_resize(True, "RecResizeImg"),
    "ClsResizeImg": _text_resize(False, "ClsResizeImg"), "ResizeImage": _resize_image, "CropImage": _crop, "NormalizeImage": _normalize,
}

# What each op's arguments may name: a key outside these would change the preprocessing in a way this reader cannot repeat.
OP_KEYS: Dict[str, Tuple[str, ...]] = {
    "DecodeImage": ("img_mode", "channel_first", "to_rgb"), "DetResizeForTest": ("limit_side_len", "limit_type", "resize_long", "image_shape"),
    "RecResizeImg": ("image_shape",), "ClsResizeImg": ("image_shape",), "ResizeImage": ("size", "resize_short", "interpolation", "backend"),
    "CropImage": ("size",),
    "NormalizeImage": ("scale", "mean", "std", "order", "channel_num"),
}


def _preprocess(ops: List[Any], labels_hint: str) -> Preprocess:
    steps = _Steps()
    for i, entry in enumerate(ops):
        if not (isinstance(entry, dict) and len(entry) == 1):
            raise ValueError(f"transform_ops[{i}] must be a one-key mapping like `- DecodeImage: {{img_mode: BGR}}`, not {entry!r}")
        (op, args), = entry.items()
        if op in IGNORED_OPS:
            continue
        if op not in OPS:
            raise ValueError(f"transform_ops[{i}] {op} is not an op paddle-edge can repeat on a board; it knows "
                             f"{', '.join(list(OPS) + list(IGNORED_OPS))}")
        args = dict(args or {})
        unknown = sorted(set(args) - set(OP_KEYS[op]))
        if unknown:
            raise ValueError(f"transform_ops[{i}] {op} has keys this reader does not know: {unknown}; it reads {list(OP_KEYS[op])}")
        OPS[op](steps, args)
    if steps.resize is None and steps.short_side is not None:
        raise ValueError(f"ResizeImage resize_short {steps.short_side} without CropImage gives every image its own size; "
                         "add `- CropImage: {size: N}` after it, as PaddleClas's configs do")
    if steps.resize is None:
        raise ValueError(f"no resize step ({', '.join(op for op in OPS if 'Resize' in op)}): the model's input size is unknown")
    channels = 1 if steps.color == "L" else 3
    norm = steps.norm or {"scale": 1 / 255, "mean": [0.0] * channels, "std": [1.0] * channels}
    mean, std = (list(map(float, norm[k])) for k in ("mean", "std"))
    if len(mean) != channels or len(std) != channels or min(std) <= 0:
        raise ValueError(f"NormalizeImage mean {mean} and std {std} need {channels} values each (std > 0) for {labels_hint}")
    scale = [norm["scale"] / s for s in std]
    offset = [-m / s for m, s in zip(mean, std)]
    return Preprocess(scale=scale, offset=offset, image=ImageSpec(steps.color, steps.resize))


def _dictionary(post: Dict[str, Any], folder: Path) -> Tuple[str, ...]:
    """CTC classes as PaddleOCR's CTCLabelDecode numbers them: blank, the dictionary's symbols, then a space if asked."""
    if "character_dict" in post:
        symbols = [str(s) for s in post["character_dict"]]
    elif "character_dict_path" in post:
        path = folder / str(post["character_dict_path"])
        if not path.is_file():
            raise ValueError(f"PostProcess.character_dict_path {path} does not exist")
        symbols = path.read_text(encoding="utf-8").splitlines()
    else:
        raise ValueError("CTCLabelDecode needs character_dict (a list) or character_dict_path (a file, one symbol per line)")
    return ("blank", *symbols, *([" "] if post.get("use_space_char", False) else []))


def _class_id_map(path: Path, delimiter: str) -> Tuple[str, ...]:
    """PaddleClas's class_id_map_file: one `id<delimiter>name` per line (a space unless told), ids 0, 1, ... in any order."""
    if not path.is_file():
        raise ValueError(f"PostProcess class_id_map_file {path} does not exist")
    names: Dict[int, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        index, _, name = line.strip().partition(delimiter)
        if not index.strip().isdigit() or int(index) in names:
            raise ValueError(f"{path}:{number}: {line!r} is not `id{delimiter}name` with a new whole-number id (Topk's delimiter "
                             f"is {delimiter!r})")
        names[int(index)] = name.strip()
    if sorted(names) != list(range(len(names))):
        raise ValueError(f"{path} numbers its classes {min(names, default=0)}..{max(names, default=-1)} with gaps: "
                         "every id from 0 to the last needs a line")
    return tuple(names[i] for i in range(len(names)))


def _postprocess(post: Optional[Dict[str, Any]], folder: Path) -> Tuple[str, Dict[str, Any], Optional[Tuple[str, ...]]]:
    """(task, head settings, labels) of the PostProcess section."""
    if not post:
        return "generic", {}, None
    name = post.get("name") or next((k for k in post if k == "Topk"), None)
    if name == "DBPostProcess":
        if post.get("score_mode", "fast") != "fast" or post.get("box_type", "quad") != "quad":
            raise ValueError("DBPostProcess: only score_mode fast and box_type quad are supported")
        unknown = set(post) - set(DB_KEYS) - {"name", "score_mode", "box_type"}
        if unknown:
            raise ValueError(f"DBPostProcess has keys this reader does not know: {sorted(unknown)}; it knows {sorted(DB_KEYS)}")
        db = {k: DB_KEYS[k](post[k]) for k in DB_KEYS if k in post}
        try:
            DbParams(**db)
        except InputError as exc:
            raise ValueError(f"DBPostProcess: {exc.problem}") from None
        return "text_detection", {"db": db}, None
    if name in HEAD_KEYS:
        body = post.get("Topk", post) if name == "Topk" else post
        if not isinstance(body, dict):
            raise ValueError(f"PostProcess {name} must be a mapping like {{topk: 1, label_list: [...]}}, not {body!r}")
        unknown = sorted(set(body) - set(HEAD_KEYS[name]) - {"name", "Topk"})
        if unknown:
            raise ValueError(f"{name} has keys this reader does not know: {unknown}; it reads {list(HEAD_KEYS[name])}")
    if name == "CTCLabelDecode":
        return "text_recognition", {}, _dictionary(post, folder)
    if name in ("ClsPostProcess", "Topk"):
        if "class_id_map_file" in body:
            return "classification", {}, _class_id_map(folder / str(body["class_id_map_file"]), str(body.get("delimiter") or " "))
        labels = body.get("label_list")
        return "classification", {}, tuple(str(v) for v in labels) if labels else None
    raise ValueError(f"PostProcess {name!r} is not a head paddle-edge has; it has DBPostProcess, CTCLabelDecode, "
                     "ClsPostProcess and Topk")


def read_model_config(path: Path) -> ModelConfig:
    """Read an inference.yml: task, preprocessing, head settings, labels or CTC dictionary (paths relative to the file)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no preprocessing file {path}", "check the path") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid YAML ({str(exc).splitlines()[0]})", "fix the file's syntax") from exc
    if not isinstance(data, dict) or not isinstance(data.get("PreProcess"), dict) or "transform_ops" not in data["PreProcess"]:
        raise ConfigError(f"{path} has no PreProcess.transform_ops list",
                          "write it as PaddleOCR's inference.yml does (see the README's 'bring your own model')")
    unknown = set(data) - {"Global", "PreProcess", "PostProcess", "Hpi"}
    if unknown:
        raise ConfigError(f"{path} has top-level keys this reader does not know: {sorted(unknown)}",
                          "keep Global, PreProcess and PostProcess")
    try:
        task, post, labels = _postprocess(data.get("PostProcess"), path.parent)
        preprocess = _preprocess(list(data["PreProcess"]["transform_ops"] or []), task)
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{path}: {exc}", "correct that entry (the README lists the ops and keys paddle-edge reads)") from exc
    name = (data.get("Global") or {}).get("model_name")
    return ModelConfig(task, preprocess, post, labels, str(name) if name else None)
