"""Read Paddle's pickled state dicts (`layer.pdparams`) without running code from the file.

paddle.save writes a state dict as a pickle of numpy arrays, and unpickling an arbitrary file can execute anything.
This unpickler resolves only the three names such a file needs (numpy's array reconstructor, ndarray and dtype) and
refuses every other, naming it: a tampered or foreign file fails with an error instead of running.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Dict

import numpy as np

from ..runtime.errors import PaddleEdgeError

ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
}


NAME_TABLE = "StructuredToParameterName@@"  # paddle.save's table of structured -> parameter names, not a weight


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name}")
        return super().find_class(module, name)


def load_state_dict(path: Path) -> Dict[str, np.ndarray]:
    """A state dict of numpy arrays from a Paddle .pdparams pickle; nothing else in the file is ever executed."""
    try:
        with open(path, "rb") as f:
            state = _ArraysOnly(f).load()
    except pickle.UnpicklingError as exc:
        raise PaddleEdgeError(f"{path} asks to run {exc} while loading; a state dict holds only arrays, so it was not loaded",
                              "retrain with `paddle-edge train`, or load it yourself with paddle.load only if you trust where it came from") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise PaddleEdgeError(f"{path} is not a readable state dict ({exc})", "retrain with `paddle-edge train`") from None
    if isinstance(state, dict):
        state.pop(NAME_TABLE, None)
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in state.items()):
        raise PaddleEdgeError(f"{path} is not a state dict of named arrays", "retrain with `paddle-edge train`")
    return state
