"""ONNX Runtime backend: a CPU InferenceSession with a fixed thread count."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import onnxruntime as ort

from ..errors import BundleError, InputError


class OnnxRuntimeBackend:
    """Runs an .onnx file on ONNX Runtime's CPU provider."""

    def __init__(self, model_path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises several private exception types for unreadable models
            raise BundleError(f"ONNX Runtime cannot load {model_path} ({str(exc).splitlines()[0]})",
                              "the file is truncated or not an ONNX model; copy or export it again") from exc
        self.input_names: List[str] = [i.name for i in self.session.get_inputs()]
        self.output_names: List[str] = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        try:
            return self.session.run(self.output_names, feeds)
        except Exception as exc:  # ORT raises private types for inputs its kernels cannot take (e.g. a dynamic dim too small)
            raise InputError(f"ONNX Runtime refused the inputs ({str(exc).splitlines()[0][:300]})",
                             "give every input the shape the model was exported for (see the manifest's inputs)") from exc
