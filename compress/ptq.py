"""Post-training static quantization with PaddleSlim's quant_post_static, calibrated on the training split."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import paddle
from paddleslim.quant import quant_post_static
from tqdm import tqdm

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from ..train.card import ModelCard
from ..train.datasets import load_dataset
from ..train.inference_model import find_model_files
from .logs import unlogged
from .program_order import canonicalize_program
from .recipe import PtqRecipe
from .result import CompressResult, write_int8_card
from .source import refuse_run_dir


def calibration_batches(x: np.ndarray, feed: str, recipe: PtqRecipe) -> Iterator[dict]:
    """Feed dicts of `batch_size` rows, `batch_nums` of them: the data_loader form Paddle 3's PTQ accepts.

    A progress bar with ETA follows each pass (KL and hist calibrate in two passes over the batches)."""
    for i in tqdm(range(recipe.batch_nums), desc=f"calibration ({recipe.algo})", unit="batch", leave=False):
        yield {feed: x[i * recipe.batch_size:(i + 1) * recipe.batch_size]}


def quantize_ptq(model_dir: Path, out_dir: Path, recipe: PtqRecipe = PtqRecipe(), data: Optional[Path] = None) -> CompressResult:
    """Quantize a float model directory to int8 (QDQ) into `out_dir`, written all at once."""
    refuse_run_dir(model_dir)
    files = find_model_files(model_dir)
    card = ModelCard.load(model_dir)
    if card is None or card.dataset is None:
        raise PaddleEdgeError(f"{model_dir} has no paddle-edge card naming its dataset, so there is nothing to calibrate on",
                              "train it with `paddle-edge train`, or write a card with `dataset` set")
    dataset = load_dataset(card.dataset, data)
    needed = recipe.batch_nums * recipe.batch_size
    if len(dataset.x_train) < needed:
        raise PaddleEdgeError(f"calibration wants {needed} samples, the training split has {len(dataset.x_train)}",
                              "lower --batch-nums or --batch-size")
    x = dataset.x_train[np.random.default_rng(0).permutation(len(dataset.x_train))[:needed]]
    print(f"PTQ ({recipe.algo}) of {model_dir} on {recipe.batch_nums} x {recipe.batch_size} training samples", flush=True)
    with atomic_dir(out_dir) as tmp, unlogged(tmp):
        paddle.enable_static()
        try:
            quant_post_static(
                paddle.static.Executor(paddle.CPUPlace()), str(files.program.parent), str(tmp),
                data_loader=lambda: calibration_batches(x, card.inputs[0].name, recipe),
                model_filename=files.program.name, params_filename=files.params.name,
                save_model_filename="model.pdmodel", save_params_filename="model.pdiparams",
                batch_nums=recipe.batch_nums, algo=recipe.algo, hist_percent=recipe.hist_percent,
                weight_quantize_type=recipe.weight_quantize_type, onnx_format=True,
            )
        finally:
            paddle.disable_static()
        canonicalize_program(tmp / "model.pdmodel")
        int8_card = write_int8_card(model_dir, card, tmp, recipe.to_dict(), dataset)
    return CompressResult(Path(out_dir), int8_card)
