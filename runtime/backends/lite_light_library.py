"""Paddle Lite's C++ light library (`libpaddle_light_api_shared.so`) through paddle-edge's C shim, with ctypes.

What runs a .nb on an ARM board that has no Lite Python wheel: Lite's light API for armlinux is a C++ library, and
`boards/lite_shim/paddle_edge_lite.cc` (built beside it by `paddle-edge lite-build`) gives it a C interface. The shim is
found through $PADDLE_EDGE_LITE_LIBRARY. Needs only numpy.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Dict, List

import numpy as np

from ..errors import BackendError

ENV = "PADDLE_EDGE_LITE_LIBRARY"
SHIM_LIBRARY = "libpaddle_edge_lite.so"
RUNTIME_GLOB = "~/.cache/paddle-edge/boards/lite-armv8-*"  # where `paddle-edge lite-build` puts it (by default)
MAX_RANK = 8
# Lite's PrecisionType codes (lite/api/paddle_place.h) of the tensor types the shim moves
DTYPES: Dict[int, np.dtype] = {1: np.dtype(np.float32), 3: np.dtype(np.int32), 7: np.dtype(np.int64)}
CODES = {dtype: code for code, dtype in DTYPES.items()}
FIX = (f"build Paddle Lite's ARM runtime with `paddle-edge lite-build` (on the host that emulates this board) and set {ENV} "
       f"to its {SHIM_LIBRARY}")


def _load(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:  # not there, another architecture, or a library it needs is missing
        raise BackendError(f"${ENV} names {path}, which cannot be loaded: {exc}",
                           f"{FIX}; if it is there, delete {RUNTIME_GLOB} and run lite-build again") from exc
    handle, i64p = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)
    signatures = {
        "pel_last_error": ([], ctypes.c_char_p), "pel_open": ([ctypes.c_char_p, ctypes.c_int], handle),
        "pel_close": ([handle], None), "pel_version": ([handle], ctypes.c_char_p),
        "pel_count": ([handle, ctypes.c_int], ctypes.c_int), "pel_name": ([handle, ctypes.c_int, ctypes.c_int], ctypes.c_char_p),
        "pel_set_input": ([handle, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, i64p, ctypes.c_int], ctypes.c_int),
        "pel_run": ([handle], ctypes.c_int),
        "pel_output_info": ([handle, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), i64p, ctypes.c_int], ctypes.c_int),
        "pel_output_copy": ([handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_int64], ctypes.c_int),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = args, result
    return lib


class LightPredictor:
    """One .nb model in Lite's light predictor: inputs and outputs by name, as Lite's C++ API gives them."""

    def __init__(self, model_path: Path, threads: int) -> None:
        named = os.environ.get(ENV)
        if not named:
            raise BackendError(f"${ENV} is not set, so Paddle Lite's light library cannot be found", FIX)
        self._lib = _load(Path(named))
        self._handle = self._lib.pel_open(str(model_path).encode(), threads)
        if not self._handle:
            raise BackendError(f"Paddle Lite cannot open {model_path}: {self._error()}",
                               "export the model again with the opt of the Lite version this library was built from")
        self.version = self._lib.pel_version(self._handle).decode().lstrip("v")
        self.input_names = self._names(0)
        self.output_names = self._names(1)

    def _error(self) -> str:
        return self._lib.pel_last_error().decode(errors="replace")

    def _names(self, outputs: int) -> List[str]:
        return [self._lib.pel_name(self._handle, outputs, i).decode() for i in range(self._lib.pel_count(self._handle, outputs))]

    def _check(self, code: int, what: str) -> None:
        if code != 0:
            raise BackendError(f"Paddle Lite failed {what}: {self._error()}", "check the input shapes and types against the model's")

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Outputs for `feeds` (float32, int32 or int64 arrays, by input name), in output order."""
        for i, name in enumerate(self.input_names):
            x = np.ascontiguousarray(feeds[name])
            if x.dtype not in CODES:
                raise BackendError(f"input {name} is {x.dtype}; the Lite shim moves float32, int32 and int64", f"cast {name} to float32")
            shape = (ctypes.c_int64 * max(x.ndim, 1))(*x.shape)
            self._check(self._lib.pel_set_input(self._handle, i, CODES[x.dtype], x.ctypes.data, shape, x.ndim), f"setting input {name}")
        self._check(self._lib.pel_run(self._handle), "running the model")
        return [self._output(i) for i in range(len(self.output_names))]

    def _output(self, i: int) -> np.ndarray:
        dtype, ndim, shape = ctypes.c_int(), ctypes.c_int(), (ctypes.c_int64 * MAX_RANK)()
        self._check(self._lib.pel_output_info(self._handle, i, ctypes.byref(dtype), ctypes.byref(ndim), shape, MAX_RANK),
                    f"reading output {self.output_names[i]}")
        if dtype.value not in DTYPES:
            raise BackendError(f"output {self.output_names[i]} has Lite type code {dtype.value}, which the shim does not move",
                               "use a model whose outputs are float32, int32 or int64")
        out = np.empty(tuple(shape[:ndim.value]), DTYPES[dtype.value])
        self._check(self._lib.pel_output_copy(self._handle, i, out.ctypes.data, out.nbytes), f"copying output {self.output_names[i]}")
        return out

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self._lib.pel_close(self._handle)
