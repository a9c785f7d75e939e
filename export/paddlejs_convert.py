"""paddlejsconverter's own conversion, run on Paddle 3 in a process of its own: `python -m paddle_edge.export.paddlejs_convert
CONVERTER_DIR PROGRAM PARAMS OUT_DIR SLICE_KB INPUT_SHAPE` (export/paddlejs.py starts it).

paddlejsconverter 1.0.8 (its newest) was written for Paddle 2.0: `convertModel.py` imports `paddle.fluid` (removed in
Paddle 2.6) and walks the legacy ProgramDesc API (`op.input_names`, `op.attr_names`), which Paddle 3 gives only with PIR
off. So this process turns PIR off before Paddle is imported and names `paddle.fluid` the module holding the four calls
the converter makes, each the Paddle 3 call of the same meaning. It is a process of its own because the converter keeps
the model being converted in module globals and installs top-level modules (`convertModel`, `rnn`, ...). The converter's optional optimize step is not run: it needs `paddlejslite`, which PyPI has only as a
macOS CPython 3.6 wheel (`paddlejsconverter --disableOptimize=1` skips it the same way)."""
from __future__ import annotations

import os
import sys
import types
from typing import List


def fluid_module(input_shape: List[int]) -> types.ModuleType:
    """`paddle.fluid` as convertModel.py uses it: Executor, CPUPlace, global_scope and io.load_inference_model, which
    also gives the program's one input the fixed `input_shape` ([-1, C, H, W]): the converter runs the program once on
    an input of that shape (-1 as 1) to learn every tensor's shape for Paddle.js."""
    import paddle

    fluid = types.ModuleType("paddle.fluid")
    fluid.Executor = paddle.static.Executor
    fluid.CPUPlace = paddle.CPUPlace
    fluid.global_scope = paddle.static.global_scope

    def load_inference_model(dirname: str, executor: paddle.static.Executor, model_filename: str, params_filename: str) -> list:
        program, feeds, fetches = paddle.static.load_inference_model(dirname, executor, model_filename=model_filename,
                                                                     params_filename=params_filename)
        program.global_block().var(feeds[0]).desc.set_shape(input_shape)
        return [program, feeds, fetches]

    fluid.io = types.SimpleNamespace(load_inference_model=load_inference_model)
    return fluid


def at_most_4d(shape: List[int], name: str) -> List[int]:
    """convertModel.validateShape, refusing where the converter would drop a tensor's leading dimensions (Paddle.js keeps
    at most 4) and only print so."""
    if len(shape) > 4:
        raise ValueError(f"tensor {name} has {len(shape)} dimensions {shape}; Paddle.js keeps at most 4")
    return shape


def main(converter: str, program: str, params: str, out: str, slice_kb: str, input_shape: str) -> None:
    """Convert the model `program` + `params` (one folder) into `out` with the converter's modules in `converter`, its
    input fixed to `input_shape` ("-1,C,H,W")."""
    os.environ["FLAGS_enable_pir_api"] = "0"
    sys.modules["paddle.fluid"] = fluid_module([int(d) for d in input_shape.split(",")])
    sys.path.insert(0, converter)
    import convertModel

    convertModel.sliceDataSize = int(slice_kb)
    convertModel.validateShape = at_most_4d
    folder, program_name = os.path.split(program)
    convertModel.convertToPaddleJSModel(folder, program_name, os.path.basename(params), out, None)


if __name__ == "__main__":
    main(*sys.argv[1:])
