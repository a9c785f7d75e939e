"""What compress/ hands to export/: an int8 Paddle model directory whose card records the recipe and float vs int8 scores."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, Sequence

from ..runtime.metrics import score
from ..source.card import ModelCard
from ..train.datasets import Dataset
from ..source.paddle_program import QUANTIZE_OPS, find_model_files, read_program
from ..source.paddle_predictor import PaddlePredictor


@dataclasses.dataclass(frozen=True)
class CompressResult:
    """The int8 model directory and its card (float and int8 metrics of PaddleSlim's program in Paddle, test and validation)."""

    model_dir: Path
    card: ModelCard

    @property
    def float_metrics(self) -> Dict[str, float]:
        return self.card.quantization["float_metrics"]

    @property
    def int8_metrics(self) -> Dict[str, float]:
        return self.card.metrics


def quantize_op_count(ops: Sequence[str]) -> int:
    """How many QuantizeLinear/DequantizeLinear ops a quantized program holds: what its card records."""
    return sum(op in QUANTIZE_OPS for op in ops)


def evaluate_model_dir(model_dir: Path, dataset: Dataset, threads: int = 2) -> Dict[str, float]:
    """Score a Paddle model directory with Paddle Inference: on the full test split (`top1`/`mse`) and on the validation
    split (`val_top1`/`val_mse`), which is what choosing between int8 candidates may look at."""
    predictor = PaddlePredictor(model_dir, threads)
    val = score(predictor.predict_all(dataset.x_val), dataset.y_val, dataset.task)
    return {**score(predictor.predict_all(dataset.x_test), dataset.y_test, dataset.task), **{f"val_{k}": v for k, v in val.items()}}


def write_int8_card(float_dir: Path, float_card: ModelCard, int8_dir: Path, recipe: Dict[str, Any], dataset: Dataset) -> ModelCard:
    """Evaluate float and int8 side by side and save the int8 card into `int8_dir`."""
    float_metrics = evaluate_model_dir(float_dir, dataset)
    int8_metrics = evaluate_model_dir(int8_dir, dataset)
    info = read_program(int8_dir)
    card = dataclasses.replace(
        float_card, inputs=info.inputs, outputs=info.outputs, precision="int8", metrics=int8_metrics,
        quantization={**recipe, "float_metrics": float_metrics,
                      "quantize_ops": quantize_op_count(info.ops)},
        source_sha256=find_model_files(float_dir).sha256(),
    )
    card.save(int8_dir)
    return card
