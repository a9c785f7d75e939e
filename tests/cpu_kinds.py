"""The int8 file each engine must open on this CPU, as the tests hold the runtime to it (runtime/cpu.py's rules)."""
from __future__ import annotations

from typing import Collection

from paddle_edge.runtime.cpu import has_int8_saturation, openvino_takes_int8_activations


def openvino_int8_file(artifacts: Collection[str]) -> str:
    """OpenVINO's: the uint8-weight file where u8 x s8 kernels saturate, else the one made for it where its plugin takes
    int8 activations and the bundle has it (LeNet's layout may leave no activation to re-encode), else the one for any CPU."""
    if has_int8_saturation():
        return "onnx-int8-u8w"
    return "onnx-int8-openvino" if "onnx-int8-openvino" in artifacts and openvino_takes_int8_activations() else "onnx-int8"
