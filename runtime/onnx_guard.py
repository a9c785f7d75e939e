"""Check an .onnx file from a bundle before ONNX Runtime parses it: size cap, external data kept inside the bundle.

The board has no `onnx` package, so the file's protobuf is walked here with a few lines of wire-format reading: every
TensorProto (initializers, Constant and attribute tensors, subgraphs of If/Loop/Scan, functions) is visited and any
external-data `location` must be a relative path that stays in the bundle. Where `onnx` is installed (the host), its
checker runs too.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Iterator, List, Tuple

from .errors import BundleError

MAX_ONNX_BYTES = 2 << 30  # protobuf's own limit; larger models must use external data
# field numbers from onnx.proto: message -> {field: message type of that field}
_MESSAGES = {
    "Model": {7: "Graph", 25: "Function"},
    "Graph": {1: "Node", 5: "Tensor", 15: "Sparse"},
    "Function": {7: "Node"},
    "Node": {5: "Attribute"},
    "Attribute": {5: "Tensor", 6: "Graph", 10: "Tensor", 11: "Graph", 22: "Sparse", 23: "Sparse"},
    "Sparse": {1: "Tensor", 2: "Tensor"},
    "Tensor": {},
}
_EXTERNAL_DATA, _KEY, _VALUE = 13, 1, 2


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[Tuple[int, int, bytes]]:
    """(field number, wire type, payload) of each field; payload is the bytes of length-delimited fields, else b""."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _varint(buf, pos)
            yield field, wire, b""
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError("field runs past the end of the file")
            yield field, wire, buf[pos:pos + size]
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            yield field, wire, b""
        else:
            raise ValueError(f"unknown wire type {wire}")


def external_locations(buf: bytes, message: str = "Model") -> List[str]:
    """Every external-data `location` in a serialized ONNX message."""
    found: List[str] = []
    for field, wire, payload in _fields(buf):
        if wire != 2:
            continue
        if message == "Tensor" and field == _EXTERNAL_DATA:
            entry = {f: p.decode("utf-8", "replace") for f, w, p in _fields(payload) if w == 2}
            if entry.get(_KEY) == "location":
                found.append(entry.get(_VALUE, ""))
        elif field in _MESSAGES[message]:
            found += external_locations(payload, _MESSAGES[message][field])
    return found


def check_onnx_file(path: Path, bundle_root: Path) -> None:
    """Refuse an .onnx file that is too large, malformed, or reads external data from outside `bundle_root`."""
    size = path.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise BundleError(f"{path} is {size:,} bytes, more than an ONNX protobuf may be ({MAX_ONNX_BYTES:,})",
                          "export the model again; paddle-edge never writes ONNX files this large")
    try:
        locations = external_locations(path.read_bytes())
    except ValueError as exc:
        raise BundleError(f"{path} is not a well-formed ONNX protobuf ({exc})", "copy the bundle again or re-export it") from None
    root = bundle_root.resolve()
    for location in locations:
        target = (path.parent / location).resolve()
        if Path(location).is_absolute() or (target != root and root not in target.parents):
            raise BundleError(f"{path} reads external data from {location!r}, outside its bundle",
                              "do not load this model; ask for a bundle written by `paddle-edge export`")
    if importlib.util.find_spec("onnx") is not None:
        import onnx

        try:
            onnx.checker.check_model(str(path))
        except (onnx.checker.ValidationError, ValueError) as exc:
            raise BundleError(f"{path} fails onnx.checker ({str(exc).splitlines()[0]})", "re-export the bundle") from None
