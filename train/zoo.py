"""The model zoo: the networks people learn deployment on, by name, each with its dataset."""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional

from paddle import nn

from ..runtime.errors import PaddleEdgeError


def softmax_regression() -> nn.Layer:
    """One fully connected layer over the 784 pixels (the course's 92 % baseline)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def mlp() -> nn.Layer:
    """784-512-10 with ReLU."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def lenet() -> nn.Layer:
    """The course's LeNet: conv5x5x20-pool-BN-conv5x5x50-pool-fc10 (not the classic LeNet-5 with its 120/84 FC stack)."""
    return nn.Sequential(
        nn.Conv2D(1, 20, 5), nn.ReLU(), nn.MaxPool2D(2, 2), nn.BatchNorm2D(20),
        nn.Conv2D(20, 50, 5), nn.ReLU(), nn.MaxPool2D(2, 2),
        nn.Flatten(), nn.Linear(800, 10),
    )


class ResidualBlock(nn.Layer):
    """Two 3x3 conv-BN layers and a shortcut (a strided 1x1 conv-BN where the shape changes), then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2D(cin, cout, 3, stride, padding=1, bias_attr=False), nn.BatchNorm2D(cout), nn.ReLU(),
            nn.Conv2D(cout, cout, 3, padding=1, bias_attr=False), nn.BatchNorm2D(cout),
        )
        self.shortcut = nn.Sequential(nn.Conv2D(cin, cout, 1, stride, bias_attr=False), nn.BatchNorm2D(cout)) \
            if stride != 1 or cin != cout else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):  # noqa: D102 - paddle's Layer contract
        return self.relu(self.body(x) + self.shortcut(x))


def resnet() -> nn.Layer:
    """A small ResNet for 28x28 digits (16-32-64 channels, three residual blocks): several times LeNet's FLOPs, for int8 to matter."""
    return nn.Sequential(
        nn.Conv2D(1, 16, 3, padding=1, bias_attr=False), nn.BatchNorm2D(16), nn.ReLU(),
        ResidualBlock(16, 16, 1), ResidualBlock(16, 32, 2), ResidualBlock(32, 64, 2),
        nn.AdaptiveAvgPool2D(1), nn.Flatten(), nn.Linear(64, 10),
    )


def linear_regression() -> nn.Layer:
    """13 housing features to one price."""
    return nn.Linear(13, 1)


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """A zoo model: how to build it, what it trains on, and the defaults that reach its accuracy target."""

    build: Callable[[], nn.Layer]
    dataset: str
    epochs: int
    learning_rate: float
    batch_size: int
    metric: str
    target: Optional[float]  # the least top-1 to reach on the full test set; None where the figure is only reported
    schedule: str = "cosine"  # Adam's, per batch: "cosine" decays from learning_rate; "onecycle" warms up to it over 30 %, then decays
    shift: int = 0  # augmentation: each image moves up to `shift` pixels each way, new offsets every epoch

    def __post_init__(self) -> None:
        if self.schedule not in ("cosine", "onecycle"):
            raise ValueError(f"zoo entry with unknown schedule {self.schedule!r}: use cosine or onecycle")


ZOO: Dict[str, ZooEntry] = {
    "softmax": ZooEntry(softmax_regression, "mnist", 10, 0.005, 64, "top1", 0.920),
    "mlp": ZooEntry(mlp, "mnist", 5, 0.001, 64, "top1", 0.975),
    # OneCycle to 0.003 with +-2 px shifts: the recipe that scored best on the validation split of those tried
    # (Adam cosine 0.001, OneCycle without shifts); `paddle-edge zoo --models lenet --json FILE` reports its figures
    "lenet": ZooEntry(lenet, "mnist", 6, 0.003, 64, "top1", 0.992, schedule="onecycle", shift=2),
    "resnet": ZooEntry(resnet, "mnist", 2, 0.002, 64, "top1", 0.990),
    "linear": ZooEntry(linear_regression, "housing", 200, 0.05, 32, "mse", None),
}


def zoo_entry(name: str) -> ZooEntry:
    """The zoo entry for `name`, or an error that lists the zoo."""
    if name not in ZOO:
        raise PaddleEdgeError(f"unknown model {name!r}", f"choose one of: {', '.join(ZOO)}")
    return ZOO[name]
