"""Train a zoo model with paddle.Model (prepare/fit/evaluate), checkpoint every epoch, resume, and save the float inference model."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import paddle
from paddle import nn

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from .card import ModelCard
from .datasets import Dataset, load_dataset
from .inference_model import read_program
from .zoo import zoo_entry

CHECKPOINTS = "checkpoints"
MODEL = "model"
LAYER_STATE = "layer.pdparams"  # the dygraph state_dict by structured name: what QAT needs to rebuild the zoo net


class ArrayDataset(paddle.io.Dataset):
    """Rows of in-memory arrays, as paddle.io.Dataset."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.x, self.y = x, y

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]

    def __len__(self) -> int:
        return len(self.x)


class EpochCheckpoint(paddle.callbacks.Callback):
    """Saves parameters and optimizer state after every epoch, atomically, numbered from `first_epoch`."""

    def __init__(self, folder: Path, first_epoch: int) -> None:
        super().__init__()
        self.folder, self.first_epoch = folder, first_epoch

    def on_epoch_end(self, epoch: int, logs: Optional[Dict] = None) -> None:
        number = self.first_epoch + epoch + 1
        with atomic_dir(self.folder / f"epoch-{number}") as tmp:
            self.model.save(str(tmp / "state"))


def latest_checkpoint(folder: Path) -> int:
    """The highest complete epoch checkpoint in `folder` (0 if none)."""
    done = [int(m.group(1)) for p in folder.glob("epoch-*") if (m := re.fullmatch(r"epoch-(\d+)", p.name)) and (p / "state.pdparams").is_file()]
    return max(done, default=0)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """A trained float model directory and its card."""

    model_dir: Path
    card: ModelCard
    epochs_run: int


def _labels_spec(data: Dataset) -> List[paddle.static.InputSpec]:
    return [paddle.static.InputSpec([None, 1], "int64" if data.task == "classification" else "float32", "label")]


def _input_spec(data: Dataset) -> List[paddle.static.InputSpec]:
    spec = data.input
    return [paddle.static.InputSpec([None if d == -1 else d for d in spec.shape], spec.dtype, spec.name)]


def save_inference_model(net: nn.Layer, input_spec: List[paddle.static.InputSpec], model_dir: Path, card: ModelCard) -> ModelCard:
    """paddle.jit.save in the legacy format with extra op outputs kept (Lite needs XShape), the layer state and the card; all or nothing."""
    net.eval()
    with atomic_dir(model_dir) as tmp:
        paddle.jit.save(net, str(tmp / MODEL), input_spec=input_spec, clip_extra=False)
        paddle.save(net.state_dict(), str(tmp / LAYER_STATE))
        if not (tmp / f"{MODEL}.pdmodel").is_file():
            raise PaddleEdgeError("Paddle saved a PIR (.json) program, which paddle2onnx 1.2.11 and Paddle Lite cannot read",
                                  "import paddle_edge before paddle, or set FLAGS_enable_pir_api=0 in the environment")
        info = read_program(tmp)
        card = dataclasses.replace(card, inputs=info.inputs, outputs=info.outputs)
        card.save(tmp)
    return card


def train_model(name: str, out_dir: Path, *, epochs: Optional[int] = None, batch_size: Optional[int] = None,
                learning_rate: Optional[float] = None, seed: int = 0, data: Optional[Path] = None,
                train_limit: Optional[int] = None, resume: bool = False, verbose: int = 1) -> TrainResult:
    """Train zoo model `name` into `out_dir` (checkpoints/ and model/); with `resume`, continue from the last checkpoint."""
    entry = zoo_entry(name)
    epochs = epochs or entry.epochs
    dataset = load_dataset(entry.dataset, data)
    x, y = dataset.x_train[:train_limit], dataset.y_train[:train_limit]
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / CHECKPOINTS
    start = latest_checkpoint(ckpt_dir) if resume else 0
    if resume and start == 0:
        print(f"--resume: no checkpoint in {ckpt_dir}; training from scratch", flush=True)

    paddle.seed(seed)
    np.random.seed(seed)
    batch_size = batch_size or entry.batch_size
    classify = dataset.task == "classification"
    # Parameter and optimizer-accumulator names come from a global counter; a fresh one makes checkpoint keys the same in every process.
    with paddle.utils.unique_name.guard():
        net = entry.build()
        model = paddle.Model(net, inputs=_input_spec(dataset), labels=_labels_spec(dataset))
        schedule = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate or entry.learning_rate, T_max=epochs * -(-len(x) // batch_size))
        model.prepare(paddle.optimizer.Adam(schedule, parameters=net.parameters()),  # paddle.Model steps the schedule per batch
                      nn.CrossEntropyLoss() if classify else nn.MSELoss(), paddle.metric.Accuracy() if classify else None)
        if start:
            print(f"resuming {name} from {ckpt_dir / f'epoch-{start}'} ({start}/{epochs} epochs done)", flush=True)
            model.load(str(ckpt_dir / f"epoch-{start}" / "state"))
        if start < epochs:
            model.fit(ArrayDataset(x, y.reshape(-1, 1)), epochs=epochs - start, batch_size=batch_size,
                      shuffle=True, verbose=verbose, callbacks=[EpochCheckpoint(ckpt_dir, start)])
    scores = model.evaluate(ArrayDataset(dataset.x_test, dataset.y_test.reshape(-1, 1)), batch_size=256, verbose=0)
    metrics = {"top1": float(scores["acc"])} if classify else {"mse": float(np.ravel(scores["loss"])[0])}
    card = ModelCard(model=name, task=dataset.task, inputs=(dataset.input,), outputs=(), preprocess=dataset.preprocess,
                     labels=dataset.labels, dataset=dataset.name, metrics=metrics)
    card = save_inference_model(net, _input_spec(dataset), out_dir / MODEL, card)
    return TrainResult(out_dir / MODEL, card, epochs - start)
