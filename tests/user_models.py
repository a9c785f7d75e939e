"""Models a user brings from elsewhere, saved as Paddle inference models (no paddle-edge card)."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

import paddle
from paddle import nn
from paddle.nn import functional as F


class TwoInputNet(nn.Layer):
    """Image of any H x W plus a side vector: depthwise conv, hard_swish, batch_norm, an SE block, transpose/reshape."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2D(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2D(16)
        self.depthwise = nn.Conv2D(16, 16, 3, padding=1, groups=16)
        self.se_reduce, self.se_expand = nn.Conv2D(16, 4, 1), nn.Conv2D(4, 16, 1)
        self.head = nn.Linear(16 + 4, 5)

    def forward(self, image: paddle.Tensor, extra: paddle.Tensor) -> paddle.Tensor:
        x = F.hardswish(self.bn(self.stem(image)))
        x = self.depthwise(x)
        x = x * F.hardsigmoid(self.se_expand(F.relu(self.se_reduce(F.adaptive_avg_pool2d(x, 1)))))
        pooled = paddle.reshape(paddle.transpose(F.adaptive_avg_pool2d(x, 1), [0, 2, 3, 1]), [-1, 16])
        return self.head(paddle.concat([pooled, extra], axis=1))


def save_two_input_net(folder: Path) -> Path:
    paddle.seed(1)
    net = TwoInputNet()
    net.eval()
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "image"), paddle.static.InputSpec([None, 4], "float32", "extra")]
    paddle.jit.save(net, str(folder / "model"), input_spec=spec, clip_extra=False)
    return folder


def save_mobilenet_v3_small(folder: Path) -> Path:
    paddle.seed(1)
    net = paddle.vision.models.mobilenet_v3_small(num_classes=10)
    net.eval()
    paddle.jit.save(net, str(folder / "model"), input_spec=[paddle.static.InputSpec([None, 3, 224, 224], "float32", "image")], clip_extra=False)
    return folder


class BatchOneNet(nn.Layer):
    """A classifier whose program fixes its batch inside (a flatten written as reshape to [1, -1], as some exports do):
    it runs at batch 1 and fails at any other."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.head = nn.Linear(features, 10)

    def forward(self, image: paddle.Tensor) -> paddle.Tensor:
        return self.head(paddle.reshape(image, [1, -1]))


def save_batch_one_net(folder: Path, name: str, shape: List[int]) -> Path:
    """BatchOneNet for inputs `name` of `shape` (its batch dim -1), saved in `folder` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    paddle.seed(1)
    with paddle.utils.unique_name.guard():  # the same parameter names in every save, as in separate processes
        net = BatchOneNet(int(np.prod(shape[1:])))
    net.eval()
    paddle.jit.save(net, str(folder / "model"), input_spec=[paddle.static.InputSpec([None, *shape[1:]], "float32", name)])
    return folder
