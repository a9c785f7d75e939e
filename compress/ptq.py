"""Post-training static quantization with PaddleSlim's quant_post_static.

A model paddle-edge trained calibrates on its training split; a model brought from elsewhere calibrates on the user's
own images, preprocessed exactly as the runtime will preprocess them on the board (the manifest's preprocessing)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

import numpy as np
import paddle
from paddleslim.quant import quant_post_static
from tqdm import tqdm

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from ..runtime.preprocess import images_to_batch
from ..source.calibration import calibration_images
from ..source.card import ModelCard
from ..source.model import SourceModel, as_source
from ..source.paddle_program import read_program
from ..train.datasets import load_dataset
from .logs import unlogged
from .program_order import canonicalize_program
from .recipe import PtqRecipe
from .result import CompressResult, quantize_op_count, write_int8_card

Batches = Callable[[], Iterator[dict]]


def calibration_batches(x: np.ndarray, feed: str, recipe: PtqRecipe) -> Iterator[dict]:
    """Feed dicts of `batch_size` rows, `batch_nums` of them: the data_loader form Paddle 3's PTQ accepts.

    A progress bar with ETA follows each pass (KL and hist calibrate in two passes over the batches)."""
    for i in tqdm(range(recipe.batch_nums), desc=f"calibration ({recipe.algo})", unit="batch", leave=False):
        yield {feed: x[i * recipe.batch_size:(i + 1) * recipe.batch_size]}


def image_groups(model: SourceModel, images: List[Path], recipe: PtqRecipe) -> List[List[Path]]:
    """The calibration batches of the user's images: `batch_size` per batch, at most `batch_nums`; one image per batch
    where images keep their own size (a detector's limit_side resize)."""
    size = recipe.batch_size if model.preprocess.image and model.preprocess.image.resize.mode != "limit_side" else 1
    return [images[i:i + size] for i in range(0, len(images), size)][:recipe.batch_nums]


def image_batches(model: SourceModel, groups: List[List[Path]], recipe: PtqRecipe) -> Iterator[dict]:
    """Feed dicts of the user's images through the model's own preprocessing."""
    for group in tqdm(groups, desc=f"calibration ({recipe.algo})", unit="batch", leave=False):
        yield {model.inputs[0].name: images_to_batch(group, model.preprocess)}


def _training_split(model: SourceModel, recipe: PtqRecipe, data: Optional[Path]) -> Batches:
    dataset = load_dataset(model.dataset, data)
    needed = recipe.batch_nums * recipe.batch_size
    if len(dataset.x_train) < needed:
        raise PaddleEdgeError(f"calibration wants {needed} samples, the training split has {len(dataset.x_train)}",
                              "lower --batch-nums or --batch-size")
    x = dataset.x_train[np.random.default_rng(0).permutation(len(dataset.x_train))[:needed]]
    print(f"PTQ ({recipe.algo}) of {model.directory} on {recipe.batch_nums} x {recipe.batch_size} training samples", flush=True)
    return lambda: calibration_batches(x, model.inputs[0].name, recipe)


def quantize_ptq(model: Union[Path, SourceModel], out_dir: Path, recipe: PtqRecipe = PtqRecipe(), data: Optional[Path] = None,
                 calibration: Optional[Path] = None) -> CompressResult:
    """Quantize a float model to int8 (QDQ) into `out_dir`, written all at once. `calibration` (a folder or label list of
    images) is required for a model paddle-edge did not train, and used instead of the training split if given."""
    model = as_source(model)
    if calibration is None and model.dataset is None:
        raise PaddleEdgeError(f"{model.directory} was not trained by paddle-edge, so there is no training split to calibrate on",
                              "pass --calibration DIR: a folder (or label list) of your own images, e.g. 32 to 256 of them")
    if calibration is not None and model.preprocess.image is None:
        raise PaddleEdgeError(f"{model.directory} has no image preprocessing, so images cannot be fed to it",
                              "give its preprocessing with an inference.yml beside it or `--preprocess FILE`")
    if calibration is not None:
        images = calibration_images(calibration)
        groups = image_groups(model, images, recipe)
        recipe = dataclasses.replace(recipe, batch_nums=len(groups), batch_size=max(map(len, groups)))  # what ran
        batches: Batches = lambda: image_batches(model, groups, recipe)  # noqa: E731
        print(f"PTQ ({recipe.algo}) of {model.directory} on {sum(map(len, groups))} of {len(images)} images in {calibration}",
              flush=True)
    else:
        batches = _training_split(model, recipe, data)
    unknown = sorted(set(recipe.keep_float) - set(read_program(model.directory).parameters))
    if unknown:
        raise PaddleEdgeError(f"{model.directory} has no weights named {unknown[:5]}, so nothing can be kept in float by them",
                              "name ops by their weight's Paddle name (`paddle-edge quant-debug` lists them)")
    files = model.files
    with atomic_dir(out_dir) as tmp, unlogged(tmp):
        paddle.enable_static()
        try:
            quant_post_static(
                paddle.static.Executor(paddle.CPUPlace()), str(files.program.parent), str(tmp), data_loader=batches,
                model_filename=files.program.name, params_filename=files.params.name,
                save_model_filename="model.pdmodel", save_params_filename="model.pdiparams",
                batch_nums=recipe.batch_nums, algo=recipe.algo, hist_percent=recipe.hist_percent,
                weight_quantize_type=recipe.weight_quantize_type, onnx_format=True,
                skip_tensor_list=list(recipe.keep_float) or None,
            )
        finally:
            paddle.disable_static()
        canonicalize_program(tmp / "model.pdmodel")
        if model.dataset is not None:  # the card records the preprocessing the calibration images went through
            card = model.card if calibration is None else dataclasses.replace(model.card, task=model.task, preprocess=model.preprocess)
            int8_card = write_int8_card(model.directory, card, tmp, recipe.to_dict(), load_dataset(model.dataset, data))
        else:
            int8_card = _brought_int8_card(model, tmp, {**recipe.to_dict(), "calibration": str(calibration)})
    return CompressResult(Path(out_dir), int8_card)


def _brought_int8_card(model: SourceModel, int8_dir: Path, recipe: dict) -> ModelCard:
    """The card of an int8 model quantized from a model brought from elsewhere: no dataset, so no scores here; parity
    measures the exported artifacts on the user's labelled data."""
    info = read_program(int8_dir)
    card = ModelCard(model=model.name, task=model.task, inputs=info.inputs, outputs=info.outputs, preprocess=model.preprocess,
                     labels=model.labels, precision="int8",
                     quantization={**recipe, "quantize_ops": quantize_op_count(info.ops)},
                     source_sha256=model.sha256)
    card.save(int8_dir)
    return card
