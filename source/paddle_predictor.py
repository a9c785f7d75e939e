"""Run a Paddle inference model directory with Paddle Inference: the float reference every other backend is compared to."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import paddle.inference as paddle_infer

from ..runtime.batching import predict_all
from .paddle_program import find_model_files


class PaddlePredictor:
    """A Paddle Inference predictor on the CPU with a fixed thread count (MKLDNN on, as a user would deploy it)."""

    def __init__(self, model_dir: Path, threads: int = 1, mkldnn: bool = True, ir_optim: bool = True, int8: bool = False) -> None:
        """`ir_optim=False` runs the program as written, every variable kept (what reading intermediate tensors needs).
        `int8=True` runs a PaddleSlim int8 program as oneDNN int8 kernels (its quantize ops folded into them by Paddle's
        cpu_quantize passes; without it they run as float simulation)."""
        files = find_model_files(model_dir)
        config = paddle_infer.Config(str(files.program), str(files.params))
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(threads)
        if mkldnn or int8:
            config.enable_mkldnn()
        if int8:
            config.enable_mkldnn_int8()
        config.switch_ir_optim(ir_optim)
        config.disable_glog_info()
        self.predictor = paddle_infer.create_predictor(config)
        self.input_names: List[str] = self.predictor.get_input_names()
        self.output_names: List[str] = self.predictor.get_output_names()

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        for name in self.input_names:
            handle = self.predictor.get_input_handle(name)
            handle.reshape(feeds[name].shape)
            handle.copy_from_cpu(np.ascontiguousarray(feeds[name]))
        self.predictor.run()
        return [self.predictor.get_output_handle(n).copy_to_cpu() for n in self.output_names]

    def predict_all(self, x: np.ndarray) -> np.ndarray:
        """First output over a whole array, in chunks (single-input models)."""
        return predict_all(self.run, {self.input_names[0]: x})[0]
