"""Paddle Lite backend: runs a .nb model written by Lite's opt, through Lite's light API (MobileConfig).

Through Lite's Python wheel where `paddlelite` is installed (x86-64 CPython 3.7-3.10 only: the sidecar),
else through Lite's C++ light library and paddle-edge's shim (lite_light_library: what an ARM board runs). Needs only
numpy besides. Lite's Python API gives inputs and outputs by index only, so their names are read from the .nb file itself.
Run as a module it is the sidecar's entry point: `python -m paddle_edge.runtime.backends.paddlelite MODEL.nb WORKDIR`
runs WORKDIR/input_<i>.npy and writes WORKDIR/output_<i>.npy (and WORKDIR/seconds.npy with --calls).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import re
import struct
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import BundleError
from ..timing import time_calls
from .lite_light_library import LightPredictor

HEADER = struct.Struct("<H16sQ")  # meta_version, opt version (NUL-padded), topology size; see Lite's model_parser.cc
META_VERSIONS = (1, 2)  # the flatbuffers topology formats Lite >= 2.7 writes
WARMUP_CALLS = 3


class _Table:
    """Just enough of a flatbuffers reader to walk Lite's ProgramDesc (lite/model_parser/flatbuffers/framework.fbs)."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos

    def _u32(self, pos: int) -> int:
        return struct.unpack_from("<I", self.buf, pos)[0]

    def _field(self, index: int) -> Optional[int]:
        vtable = self.pos - struct.unpack_from("<i", self.buf, self.pos)[0]
        vtable_size = struct.unpack_from("<H", self.buf, vtable)[0]
        if 4 + 2 * index >= vtable_size:
            return None
        offset = struct.unpack_from("<H", self.buf, vtable + 4 + 2 * index)[0]
        return self.pos + offset if offset else None

    def _deref(self, pos: int) -> int:
        return pos + self._u32(pos)

    def _string_at(self, pos: int) -> str:
        return self.buf[pos + 4:pos + 4 + self._u32(pos)].decode()

    def _vector(self, index: int) -> List[int]:
        pos = self._field(index)
        if pos is None:
            return []
        start = self._deref(pos)
        return [start + 4 + 4 * k for k in range(self._u32(start))]

    def string(self, index: int) -> str:
        pos = self._field(index)
        return "" if pos is None else self._string_at(self._deref(pos))

    def int32(self, index: int) -> int:
        pos = self._field(index)
        return 0 if pos is None else struct.unpack_from("<i", self.buf, pos)[0]

    def strings(self, index: int) -> List[str]:
        return [self._string_at(self._deref(p)) for p in self._vector(index)]

    def tables(self, index: int) -> List["_Table"]:
        return [_Table(self.buf, self._deref(p)) for p in self._vector(index)]


def _slot(op: _Table, index: int, parameter: str) -> str:
    """First argument of an op's input (index 1) or output (index 2) slot `parameter`."""
    return next(var.strings(1)[0] for var in op.tables(index) if var.string(0) == parameter)


def read_nb_header(model_path: Path) -> Tuple[int, str, bytes]:
    """(meta_version, opt version such as "v2.13-rc", flatbuffers topology) of a .nb file."""
    with open(model_path, "rb") as f:
        head = f.read(HEADER.size)
        if len(head) < HEADER.size:
            raise BundleError(f"{model_path} is too short to be a Paddle Lite .nb model", "export it again with Lite's opt")
        meta_version, version, size = HEADER.unpack(head)
        topology = f.read(size) if meta_version in META_VERSIONS else b""
    if meta_version not in META_VERSIONS or len(topology) != size:
        raise BundleError(f"{model_path} is not a Paddle Lite >= 2.7 .nb model (meta version {meta_version}, or truncated)",
                          "export it again with Lite's opt; if it was copied, the copy is truncated")
    return meta_version, version.split(b"\0", 1)[0].decode(errors="replace"), topology


def read_nb_io_names(topology: bytes) -> Tuple[List[str], List[str]]:
    """Input and output names in feed/fetch `col` order, as Lite's LightPredictor::PrepareFeedFetch numbers them."""
    block = _Table(topology, struct.unpack_from("<I", topology, 0)[0]).tables(0)[0]
    feeds: Dict[int, str] = {}
    fetches: Dict[int, str] = {}
    for op in block.tables(3):
        kind = op.string(0)
        if kind in ("feed", "fetch"):
            col = next((attr.int32(2) for attr in op.tables(3) if attr.string(0) == "col"), 0)
            if kind == "feed":
                feeds[col] = _slot(op, 2, "Out")
            else:
                fetches[col] = _slot(op, 1, "X")
    return [feeds[i] for i in sorted(feeds)], [fetches[i] for i in sorted(fetches)]


def _release(version: str) -> str:
    """A Lite version as pip spells it (PEP 440): the .nb header's and git tag's "v2.13-rc" is the wheel's "2.13rc0"."""
    found = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:[-_.]?(rc)[-_.]?(\d*))?", version)
    if found is None:
        return version
    release, rc, number = found.groups()
    return release + (f"rc{number or 0}" if rc else "")


def _check_version(model_path: Path, opt_version: str, installed: str, fix: str) -> None:
    if _release(opt_version) != _release(installed):
        raise BundleError(f"{model_path} was written by Paddle Lite opt {opt_version}, but Paddle Lite {installed} is what runs here",
                          f"{fix}, or export the model again with opt {installed}")


class PaddleLiteBackend:
    """Runs a .nb model on the Paddle Lite installed here, which must be the version whose opt wrote it."""

    def __init__(self, model_path: Path, threads: int) -> None:
        _, opt_version, topology = read_nb_header(Path(model_path))
        if importlib.util.find_spec("paddlelite") is None:
            self.light = LightPredictor(Path(model_path), threads)
            _check_version(model_path, opt_version, self.light.version, "run it where that version runs")
            self.input_names, self.output_names = self.light.input_names, self.light.output_names
            self.engine = f"Paddle Lite {self.light.version} C++ light library (paddle-edge's shim)"
            return
        from paddlelite.lite import MobileConfig, create_paddle_predictor

        self.light = None
        installed = importlib.metadata.version("paddlelite")
        _check_version(model_path, opt_version, installed, f"install paddlelite=={_release(opt_version)}")
        self.engine = f"Paddle Lite {installed} Python wheel"
        self.input_names, self.output_names = read_nb_io_names(topology)
        config = MobileConfig()
        config.set_model_from_file(str(model_path))
        if hasattr(config, "set_threads"):  # ARM builds only; x86 builds take OMP_NUM_THREADS / MKL_NUM_THREADS
            config.set_threads(threads)
        self.predictor = create_paddle_predictor(config)

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        if self.light is not None:
            return self.light.run(feeds)
        for i, name in enumerate(self.input_names):
            self.predictor.get_input(i).from_numpy(np.ascontiguousarray(feeds[name]))
        self.predictor.run()
        # numpy() is a view of Lite's buffer, which the next run overwrites.
        return [self.predictor.get_output(i).numpy().copy() for i in range(len(self.output_names))]


def _main(argv: Optional[Sequence[str]] = None) -> None:
    """Sidecar entry point: run WORKDIR/input_<i>.npy once (and time `--calls` runs on its first `--batch` samples)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=0, help="also time this many calls")
    parser.add_argument("--batch", type=int, default=1, help="samples per timed call")
    args = parser.parse_args(argv)
    backend = PaddleLiteBackend(args.model, args.threads)
    given = len(list(args.workdir.glob("input_*.npy")))
    if given != len(backend.input_names):
        raise SystemExit(f"{args.model} takes {len(backend.input_names)} inputs {backend.input_names}, {given} were given")
    feeds = {name: np.load(args.workdir / f"input_{i}.npy") for i, name in enumerate(backend.input_names)}
    for i, out in enumerate(backend.run(feeds)):
        np.save(args.workdir / f"output_{i}.npy", out)
    if args.calls:
        first = {name: x[:args.batch] for name, x in feeds.items()}
        np.save(args.workdir / "seconds.npy", time_calls(lambda: backend.run(first), args.calls, WARMUP_CALLS))


if __name__ == "__main__":
    _main()
