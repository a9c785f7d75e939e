"""Quant-aware training with PaddleSlim's dygraph QAT: fine-tune the trained float zoo model with fake-quant ops, then save int8 (QDQ)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import paddle
from paddle import nn
from paddleslim import QAT

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from ..source.card import ModelCard
from ..train.datasets import load_dataset
from ..train.safe_pickle import load_state_dict
from ..train.trainer import LAYER_STATE, ArrayDataset
from ..train.zoo import ZOO
from .logs import unlogged
from .program_order import canonicalize_program
from .recipe import QatRecipe
from .result import CompressResult, write_int8_card


def load_float_layer(model_dir: Path, card: ModelCard) -> nn.Layer:
    """Rebuild the zoo network and load the weights that `paddle-edge train` saved beside the inference model."""
    state = Path(model_dir) / LAYER_STATE
    if card.model not in ZOO or not state.is_file():
        raise PaddleEdgeError(f"QAT needs the Python definition and layer state of the model; {model_dir} is not a zoo model trained by paddle-edge",
                              "use --method ptq for models from elsewhere")
    with paddle.utils.unique_name.guard():
        net = ZOO[card.model].build()
    net.set_state_dict(load_state_dict(state))  # never unpickles code: the file may have come from anywhere
    return net


def quantize_qat(model_dir: Path, out_dir: Path, recipe: QatRecipe = QatRecipe(), data: Optional[Path] = None,
                 train_limit: Optional[int] = None, verbose: int = 1) -> CompressResult:
    """Fine-tune a trained float zoo model with fake quantization for `recipe.epochs` and save it as int8 into `out_dir`."""
    card = ModelCard.load(model_dir)
    if card is None or card.dataset is None:
        raise PaddleEdgeError(f"{model_dir} has no paddle-edge card", "train the model with `paddle-edge train` first")
    dataset = load_dataset(card.dataset, data)
    net = load_float_layer(model_dir, card)
    quanter = QAT(config={"weight_quantize_type": recipe.weight_quantize_type, "activation_quantize_type": recipe.activation_quantize_type,
                          "quantizable_layer_type": ["Conv2D", "Linear"], "onnx_format": True})
    quanter.quantize(net)
    spec = card.inputs[0]
    input_spec = [paddle.static.InputSpec([None if d == -1 else d for d in spec.shape], spec.dtype, spec.name)]
    classify = dataset.task == "classification"
    model = paddle.Model(net, inputs=input_spec)
    model.prepare(paddle.optimizer.Adam(recipe.learning_rate, parameters=net.parameters()),
                  nn.CrossEntropyLoss() if classify else nn.MSELoss())
    np.random.seed(0)
    print(f"QAT of {model_dir}: {recipe.epochs} epoch(s) of fake-quant fine-tuning", flush=True)
    model.fit(ArrayDataset(dataset.x_train[:train_limit], dataset.y_train[:train_limit].reshape(-1, 1)),
              epochs=recipe.epochs, batch_size=recipe.batch_size, shuffle=True, verbose=verbose)
    net.eval()
    with atomic_dir(out_dir) as tmp, unlogged(tmp):
        quanter.save_quantized_model(net, str(tmp / "model"), input_spec=input_spec)
        canonicalize_program(tmp / "model.pdmodel")
        int8_card = write_int8_card(model_dir, card, tmp, recipe.to_dict(), dataset)
    return CompressResult(Path(out_dir), int8_card)
