"""Quantization recipes: frozen, validated before any work starts, saved into the int8 model's card."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Tuple

from ..runtime.errors import PaddleEdgeError

PTQ_ALGOS = ("KL", "hist", "mse", "avg", "abs_max")
CALIBRATION_ORDER = ("mse", "hist", "KL", "avg")  # accuracy control tries these after the recipe's own, before float layers
WEIGHT_TYPES = ("channel_wise_abs_max", "abs_max")
WEIGHT_SCALES = {"per-channel": "channel_wise_abs_max", "per-tensor": "abs_max"}  # the CLI's names for PaddleSlim's


@dataclasses.dataclass(frozen=True)
class PtqRecipe:
    """Post-training static quantization with PaddleSlim: weights int8 (per output channel, or per tensor), activations
    int8 calibrated on training data or the user's images."""

    algo: str = "KL"
    batch_nums: int = 10
    batch_size: int = 32
    weight_quantize_type: str = "channel_wise_abs_max"
    hist_percent: float = 0.9999
    keep_float: Tuple[str, ...] = ()  # Paddle weight names whose ops stay in float (PaddleSlim's skip_tensor_list)

    def __post_init__(self) -> None:
        if self.algo not in PTQ_ALGOS:
            raise PaddleEdgeError(f"unknown PTQ algorithm {self.algo!r}", f"use one of: {', '.join(PTQ_ALGOS)}")
        if self.weight_quantize_type not in WEIGHT_TYPES:
            raise PaddleEdgeError(f"unknown weight quantization {self.weight_quantize_type!r}", f"use one of: {', '.join(WEIGHT_TYPES)}")
        if not 0 < self.hist_percent <= 1:
            raise PaddleEdgeError(f"hist percent {self.hist_percent:g} is not a fraction of the values seen",
                                  "pass a --hist-percent in (0, 1], e.g. 0.9999 (the default)")
        if self.batch_nums < 1 or self.batch_size < 1:
            raise PaddleEdgeError("calibration needs at least one batch of at least one sample", "pass --batch-nums >= 1 and --batch-size >= 1")

    def to_dict(self) -> Dict[str, Any]:
        return {"method": "ptq", "tool": "paddleslim.quant.quant_post_static", **dataclasses.asdict(self),
                "keep_float": list(self.keep_float),
                "weight_bits": 8, "activation_bits": 8, "format": "QDQ (onnx_format=True)"}


@dataclasses.dataclass(frozen=True)
class QatRecipe:
    """Quant-aware fine-tuning with PaddleSlim's dygraph QAT, starting from the trained float weights."""

    epochs: int = 1
    learning_rate: float = 0.0001
    batch_size: int = 64
    weight_quantize_type: str = "channel_wise_abs_max"
    activation_quantize_type: str = "moving_average_abs_max"

    def __post_init__(self) -> None:
        if self.weight_quantize_type not in WEIGHT_TYPES:
            raise PaddleEdgeError(f"unknown weight quantization {self.weight_quantize_type!r}", f"use one of: {', '.join(WEIGHT_TYPES)}")
        if self.epochs < 1 or self.learning_rate <= 0:
            raise PaddleEdgeError("QAT needs at least one epoch and a positive learning rate", "pass --epochs >= 1 and --lr > 0")

    def to_dict(self) -> Dict[str, Any]:
        return {"method": "qat", "tool": "paddleslim.QAT (dygraph)", **dataclasses.asdict(self),
                "weight_bits": 8, "activation_bits": 8, "format": "QDQ (onnx_format=True)"}
