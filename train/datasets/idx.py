"""Read IDX files (the MNIST format), plain or gzipped, with numpy only."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ...runtime.errors import PaddleEdgeError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file; raises naming the file if its header or length is wrong."""
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise PaddleEdgeError(f"{path} is not an IDX file (bad magic number)", "pass the original MNIST IDX files (optionally .gz)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise PaddleEdgeError(f"{path} holds {len(raw)} bytes, its header says {expected}", "the file is truncated; fetch it again")
    return np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(dims)
