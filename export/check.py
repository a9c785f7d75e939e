"""`paddle-edge check`: list a model's ops and say which ones a target cannot run, before any conversion."""
from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Tuple, Union

from ..runtime.errors import PaddleEdgeError
from ..source.model import SourceModel, as_source
from .lite_sidecar import sidecar_built


def _onnx_lacks(model: SourceModel) -> FrozenSet[str]:
    from paddle2onnx.paddle2onnx_cpp2py_export import get_all_supported_operators

    return frozenset(model.program.ops) - frozenset(get_all_supported_operators())


def _lite_lacks(target: str) -> Callable[[SourceModel], FrozenSet[str]]:
    def lacks(model: SourceModel) -> FrozenSet[str]:
        from .lite import lite_unsupported_ops

        return lite_unsupported_ops(model, target)
    return lacks


# target -> the op types of a model it cannot run
TARGETS: Dict[str, Callable[[SourceModel], FrozenSet[str]]] = {"onnx": _onnx_lacks, "lite-arm": _lite_lacks("arm"),
                                                              "lite-x86": _lite_lacks("x86")}


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
            lines.append(f"  {op}: " + (f"{' and '.join(others)} run it" if others else "no other target runs it"))
        return "\n".join(lines)


def check_model(model: Union[Path, SourceModel], target: str) -> CheckReport:
    """Compare the model's op types with what `target` supports; for an op it lacks, name the other targets that run
    it (the Lite ones only where the Lite sidecar is built: checking one target never builds it for another)."""
    if target not in TARGETS:
        raise PaddleEdgeError(f"unknown target {target!r}", f"use one of: {', '.join(TARGETS)}")
    source = as_source(model)
    unsupported = tuple(sorted(TARGETS[target](source)))
    asked = [name for name in TARGETS if name != target and (not name.startswith("lite-") or sidecar_built())]
    lacking = {name: TARGETS[name](source) for name in asked} if unsupported else {}
    return CheckReport(target, dict(Counter(source.program.ops)), unsupported,
                       {op: tuple(name for name, lacks in lacking.items() if op not in lacks) for op in unsupported})
