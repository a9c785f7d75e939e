"""The debugger's gain runs only the part of an int8 graph from an op on: checked against the whole model, bit for bit."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import onnx

from paddle_edge.boards.quant_debug.graph import ComputeOp
from paddle_edge.boards.quant_debug.sessions import Session, exposing, float_input_part, with_float_inputs


def assert_cut_matches_whole(int8: onnx.ModelProto, ops: Sequence[ComputeOp], feeds: Dict[str, np.ndarray]) -> None:
    """For each op: its part of the graph, fed the tensors it reads from the rest by the int8 model's run, gives the same
    output as that part joined again to the nodes it does not recompute, run from the model's inputs."""
    output, inputs = int8.graph.output[0].name, {i.name for i in int8.graph.input}
    for op in ops:
        cut = float_input_part(int8, op)
        read = [name for name in cut.feeds if name not in inputs]
        exact = Session(exposing(int8, read), read, fused=False, threads=2)
        part = with_float_inputs(int8, cut, {a.name: a.type for a in exact.session.get_inputs() + exact.session.get_outputs()})
        recomputed = {o for n in part.graph.node if n.op_type != "Constant" for o in n.output}
        whole = onnx.ModelProto()
        whole.CopyFrom(int8)
        del whole.graph.node[:]
        whole.graph.node.extend([n for n in int8.graph.node if not recomputed & set(n.output)]
                                + [n for n in part.graph.node if n.op_type != "Constant"])
        assert len(part.graph.node) < len(int8.graph.node), op.output
        got = Session(part, [output], fused=False, threads=2).run({**feeds, **exact.run(feeds)})[output]
        assert np.array_equal(got, Session(whole, [output], fused=False, threads=2).run(feeds)[output]), op.output
