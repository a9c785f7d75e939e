"""`paddle-edge check`: list a model's ops and say which ones a target cannot run, before any conversion."""
from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Tuple, Union

from ..runtime.errors import PaddleEdgeError
from ..source.model import SourceModel, as_source
from .lite_sidecar import LATER_KERNELS


def _onnx_ops() -> FrozenSet[str]:
    from paddle2onnx.paddle2onnx_cpp2py_export import get_all_supported_operators

    return frozenset(get_all_supported_operators())


def _lite_ops(target: str) -> Callable[[], FrozenSet[str]]:
    def ops() -> FrozenSet[str]:
        from .lite import lite_supported_ops

        return frozenset(lite_supported_ops(target))
    return ops


TARGETS: Dict[str, Callable[[], FrozenSet[str]]] = {"onnx": _onnx_ops, "lite-arm": _lite_ops("arm"), "lite-x86": _lite_ops("x86")}


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """Ops of a model with their counts, and those the target lacks."""

    target: str
    ops: Dict[str, int]
    unsupported: Tuple[str, ...]
    elsewhere: Dict[str, Tuple[str, ...]] = dataclasses.field(default_factory=dict)  # an unsupported op -> targets running it

    @property
    def ok(self) -> bool:
        return not self.unsupported

    def render(self) -> str:
        lines = [f"{'op':32} {'count':>5}  {self.target}"]
        lines += [f"{op:32} {n:>5}  {'NO' if op in self.unsupported else 'ok'}" for op, n in sorted(self.ops.items())]
        lines.append(f"{len(self.unsupported)} of {len(self.ops)} op types unsupported by {self.target}"
                     + (f": {', '.join(self.unsupported)}" if self.unsupported else ""))
        for op in self.unsupported:
            others = self.elsewhere.get(op, ())
            later = LATER_KERNELS.get((self.target[len("lite-"):], op)) if self.target.startswith("lite-") else None
            lines.append(f"  {op}: " + (f"{' and '.join(others)} run it" if others else "no other target runs it")
                         + (f"; Paddle Lite {later} has {self.target[len('lite-'):]} kernels for it" if later else ""))
        return "\n".join(lines)


def check_model(model: Union[Path, SourceModel], target: str) -> CheckReport:
    """Compare the model's op types with what `target` supports."""
    if target not in TARGETS:
        raise PaddleEdgeError(f"unknown target {target!r}", f"use one of: {', '.join(TARGETS)}")
    ops = Counter(as_source(model).program.ops)
    supported = TARGETS[target]()
    unsupported = tuple(sorted(op for op in ops if op not in supported))
    others = {name: TARGETS[name]() for name in TARGETS if name != target} if unsupported else {}
    return CheckReport(target, dict(ops), unsupported,
                       {op: tuple(name for name, runs in others.items() if op in runs) for op in unsupported})
