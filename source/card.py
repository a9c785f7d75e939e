"""The model card (`paddle_edge.json`): the manifest that travels with a Paddle model directory from train/ to compress/ to export/."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ..runtime.files import atomic_file
from ..runtime.manifest import Preprocess, TensorSpec

CARD_NAME = "paddle_edge.json"


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a model is, what it eats, how well it did, and (for int8) how it was quantized from which float model."""

    model: str
    task: str
    inputs: Tuple[TensorSpec, ...]
    outputs: Tuple[TensorSpec, ...]
    preprocess: Preprocess = Preprocess()
    labels: Optional[Tuple[str, ...]] = None
    dataset: Optional[str] = None
    precision: str = "fp32"
    metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
    quantization: Optional[Dict[str, Any]] = None
    source_sha256: Optional[str] = None

    def save(self, model_dir: Path) -> Path:
        """Write the card atomically into `model_dir`."""
        path = Path(model_dir) / CARD_NAME
        with atomic_file(path) as tmp:
            tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True))
        return path

    @classmethod
    def load(cls, model_dir: Path) -> Optional["ModelCard"]:
        """The card of `model_dir`, or None for a model that paddle-edge did not write."""
        path = Path(model_dir) / CARD_NAME
        if not path.is_file():
            return None
        d = json.loads(path.read_text())
        labels = d.get("labels")
        return cls(
            model=d["model"], task=d["task"],
            inputs=tuple(TensorSpec.from_dict(t) for t in d["inputs"]),
            outputs=tuple(TensorSpec.from_dict(t) for t in d["outputs"]),
            preprocess=Preprocess.from_dict(d.get("preprocess", {})),
            labels=tuple(labels) if labels else None, dataset=d.get("dataset"), precision=d.get("precision", "fp32"),
            metrics=d.get("metrics", {}), quantization=d.get("quantization"), source_sha256=d.get("source_sha256"),
        )
