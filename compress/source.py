"""The float model compress/ starts from: a model directory, never the training run directory around it."""
from __future__ import annotations

from pathlib import Path

from ..runtime.errors import PaddleEdgeError
from ..train.trainer import MODEL


def refuse_run_dir(model_dir: Path) -> None:
    """Raise naming the model directory inside when given a run directory (`paddle-edge train --out RUN` writes the model
    to RUN/model, beside RUN/checkpoints), instead of a missing-file error that does not say where the model is."""
    model_dir, inner = Path(model_dir), Path(model_dir) / MODEL
    if not any(model_dir.glob("*.pdmodel")) and any(inner.glob("*.pdmodel")):
        raise PaddleEdgeError(f"{model_dir} is a training run directory (checkpoints and model), not a model directory",
                              f"point at the model directory inside it: {inner}")
