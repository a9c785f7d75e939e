"""Train a zoo model with paddle.Model (prepare/fit): score and checkpoint every epoch, resume, save the epoch that validated best."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import paddle
from paddle import nn

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from ..runtime.metrics import score
from ..source.card import ModelCard
from .datasets import Dataset, load_dataset
from ..source.paddle_program import read_program
from .zoo import ZooEntry, zoo_entry

CHECKPOINTS = "checkpoints"
MODEL = "model"
LAYER_STATE = "layer.pdparams"  # the dygraph state_dict by structured name: what QAT needs to rebuild the zoo net
VALIDATION = "validation.json"  # in each epoch checkpoint: its validation score, which chooses the epoch to keep
EVAL_BATCH = 500


class ArrayDataset(paddle.io.Dataset):
    """Rows of in-memory arrays, as paddle.io.Dataset."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.x, self.y = x, y

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]

    def __len__(self) -> int:
        return len(self.x)


class ShiftedImages(paddle.io.Dataset):
    """Images moved by up to `shift` pixels each way (edge-padded); the offsets are drawn per image from (seed, epoch)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, shift: int, seed: int) -> None:
        super().__init__()
        self.padded = np.pad(x, ((0, 0), (0, 0), (shift, shift), (shift, shift)), mode="edge")
        self.y, self.shift, self.seed, self.size = y, shift, seed, x.shape[2:]
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's offsets, so a resumed run moves the images as the uninterrupted one would."""
        self.offsets = np.random.default_rng((self.seed, epoch)).integers(0, 2 * self.shift + 1, size=(len(self.y), 2))

    def __getitem__(self, i: int):
        (dy, dx), (h, w) = self.offsets[i], self.size
        return self.padded[i, :, dy:dy + h, dx:dx + w], self.y[i]

    def __len__(self) -> int:
        return len(self.y)


class NewShiftsEachEpoch(paddle.callbacks.Callback):
    """Tells a ShiftedImages training set each epoch's number (counted from `first_epoch`) before the epoch starts."""

    def __init__(self, data: ShiftedImages, first_epoch: int) -> None:
        super().__init__()
        self.data, self.first_epoch = data, first_epoch

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict] = None) -> None:
        self.data.set_epoch(self.first_epoch + epoch)


class EpochCheckpoint(paddle.callbacks.Callback):
    """After every epoch (numbered from `first_epoch`): score the validation split, then save parameters, optimizer
    state and that score, atomically."""

    def __init__(self, folder: Path, first_epoch: int, validate: Callable[[], Dict[str, float]]) -> None:
        super().__init__()
        self.folder, self.first_epoch, self.validate = folder, first_epoch, validate

    def on_epoch_end(self, epoch: int, logs: Optional[Dict] = None) -> None:
        number = self.first_epoch + epoch + 1
        scores = self.validate()
        with atomic_dir(self.folder / f"epoch-{number}") as tmp:
            self.model.save(str(tmp / "state"))
            (tmp / VALIDATION).write_text(json.dumps(scores))
        if self.params.get("verbose"):
            print(f"epoch {number}: validation {json.dumps(scores)}", flush=True)


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


def evaluate(net: nn.Layer, x: np.ndarray, y: np.ndarray, task: str) -> Dict[str, float]:
    """{"top1"} or {"mse"} of `net` on (x, y), in eval mode (BatchNorm uses its running statistics)."""
    net.eval()
    with paddle.no_grad():
        outputs = np.concatenate([net(paddle.to_tensor(x[i:i + EVAL_BATCH])).numpy() for i in range(0, len(x), EVAL_BATCH)])
    net.train()
    return score(outputs, y, task)


def _optimizer(entry: ZooEntry, net: nn.Layer, learning_rate: float, steps: int) -> paddle.optimizer.Optimizer:
    """Adam with the entry's learning-rate schedule over `steps` batches (paddle.Model steps it after every batch)."""
    if entry.schedule == "onecycle":
        schedule = paddle.optimizer.lr.OneCycleLR(learning_rate, steps, end_learning_rate=learning_rate / 1000)
    else:
        schedule = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate, T_max=steps)
    return paddle.optimizer.Adam(schedule, parameters=net.parameters())


def _best_epoch(model: paddle.Model, ckpt_dir: Path, last: int, validate: Callable[[], Dict[str, float]]) -> Dict[str, float]:
    """Load the checkpoint among epochs 1..`last` with the best validation score; return its scores and its epoch.

    A checkpoint written before validation scores were kept is scored now.
    """
    scores = {}
    for number in range(1, last + 1):
        folder = ckpt_dir / f"epoch-{number}"
        if (folder / VALIDATION).is_file():
            scores[number] = json.loads((folder / VALIDATION).read_text())
        elif (folder / "state.pdparams").is_file():
            model.load(str(folder / "state"), reset_optimizer=True)
            scores[number] = validate()
    if not scores:
        raise PaddleEdgeError(f"no epoch checkpoint in {ckpt_dir}", "train without --resume, or with more --epochs")
    goodness = lambda n: scores[n]["top1"] if "top1" in scores[n] else -scores[n]["mse"]  # noqa: E731
    best = max(scores, key=lambda n: (goodness(n), n))
    model.load(str(ckpt_dir / f"epoch-{best}" / "state"), reset_optimizer=True)
    return {**{f"val_{k}": v for k, v in scores[best].items()}, "epoch": best}


def train_model(name: str, out_dir: Path, *, epochs: Optional[int] = None, batch_size: Optional[int] = None,
                learning_rate: Optional[float] = None, seed: int = 0, data: Optional[Path] = None,
                train_limit: Optional[int] = None, resume: bool = False, verbose: int = 1) -> TrainResult:
    """Train zoo model `name` into `out_dir` (checkpoints/ and model/); with `resume`, continue from the last checkpoint.

    Every epoch is scored on the validation split; the saved model is the epoch that scored best there, and only it is
    scored on the test split.
    """
    entry = zoo_entry(name)
    epochs = epochs or entry.epochs
    dataset = load_dataset(entry.dataset, data)
    x, y = dataset.x_train[:train_limit], dataset.y_train[:train_limit].reshape(-1, 1)
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
        validate = lambda: evaluate(net, dataset.x_val, dataset.y_val, dataset.task)  # noqa: E731
        model = paddle.Model(net, inputs=_input_spec(dataset), labels=_labels_spec(dataset))
        model.prepare(_optimizer(entry, net, learning_rate or entry.learning_rate, epochs * -(-len(x) // batch_size)),
                      nn.CrossEntropyLoss() if classify else nn.MSELoss(), paddle.metric.Accuracy() if classify else None)
        if start:
            print(f"resuming {name} from {ckpt_dir / f'epoch-{start}'} ({start}/{epochs} epochs done)", flush=True)
            model.load(str(ckpt_dir / f"epoch-{start}" / "state"))
        if start < epochs:
            train_data, callbacks = ArrayDataset(x, y), [EpochCheckpoint(ckpt_dir, start, validate)]
            if entry.shift:
                train_data = ShiftedImages(x, y, entry.shift, seed)
                callbacks.append(NewShiftsEachEpoch(train_data, start))
            model.fit(train_data, epochs=epochs - start, batch_size=batch_size, shuffle=True, verbose=verbose, callbacks=callbacks)
        chosen = _best_epoch(model, ckpt_dir, max(start, epochs), validate)
    metrics = {**evaluate(net, dataset.x_test, dataset.y_test, dataset.task), **chosen}
    card = ModelCard(model=name, task=dataset.task, inputs=(dataset.input,), outputs=(), preprocess=dataset.preprocess,
                     labels=dataset.labels, dataset=dataset.name, metrics=metrics)
    card = save_inference_model(net, _input_spec(dataset), out_dir / MODEL, card)
    return TrainResult(out_dir / MODEL, card, max(epochs - start, 0))
