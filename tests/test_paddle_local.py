"""The program surgery behind quant-debug's Paddle local column, on a hand-written PaddleSlim-style program (protobuf only:
no model runs): which ops are copied for each compared variable, what they read, and what the copies are fed."""
from typing import Dict, List

from paddle.base.proto import framework_pb2

from paddle_edge.boards.quant_debug.paddle_local import FEED_SUFFIX, add_local_copies, local_plans
from paddle_edge.source.paddle_program import constant_variables

DENSE_TENSOR = 7  # VarType.Type's value for a tensor (LOD_TENSOR, renamed DENSE_TENSOR in Paddle 3)


def _program(ops: List[tuple], persistable: List[str]) -> framework_pb2.ProgramDesc:
    desc = framework_pb2.ProgramDesc()
    block = desc.blocks.add()
    block.idx, block.parent_idx = 0, -1
    names = {a for _, inputs, outputs in ops for slots in (inputs, outputs) for args in slots.values() for a in args}
    for name in sorted(names):
        var = block.vars.add()
        var.name, var.persistable = name, name in persistable
        var.type.type = DENSE_TENSOR
    for op_type, inputs, outputs in ops:
        op = block.ops.add()
        op.type = op_type
        for slot, args in inputs.items():
            op.inputs.add(parameter=slot, arguments=args)
        for slot, args in outputs.items():
            op.outputs.add(parameter=slot, arguments=args)
        if op_type == "feed":
            op.attrs.add(name="col", type=framework_pb2.AttrType.INT, i=0)
    return desc


def _quantizer(name: str) -> List[tuple]:
    return [("quantize_linear", {"X": [name], "Scale": [f"{name}@scale"]}, {"Y": [f"{name}.q"]}),
            ("dequantize_linear", {"X": [f"{name}.q"], "Scale": [f"{name}@scale"]}, {"Y": [f"{name}.q.dq"]})]


PROGRAM = [
    ("feed", {"X": ["feed"]}, {"Out": ["x"]}),  # 0
    *_quantizer("x"),  # 1, 2
    ("dequantize_linear", {"X": ["w"], "Scale": ["w@scale"]}, {"Y": ["w.dq"]}),  # 3: a weight
    ("conv2d", {"Input": ["x.q.dq"], "Filter": ["w.dq"]}, {"Output": ["c"]}),  # 4
    *_quantizer("c"),  # 5, 6: PaddleSlim rounds the conv's output before its bias add
    ("reshape2", {"X": ["b"]}, {"Out": ["b.r"]}),  # 7: the bias, reshaped, as Paddle 3 saves a Conv2D
    ("elementwise_add", {"X": ["c.q.dq"], "Y": ["b.r"]}, {"Out": ["c1"]}),  # 8: the variable compared for the conv
    ("relu", {"X": ["c1"]}, {"Out": ["r"]}),  # 9
    *_quantizer("r"),  # 10, 11
    ("matmul_v2", {"X": ["r.q.dq"], "Y": ["r.q.dq"]}, {"Out": ["m"]}),  # 12: two activations, one source
    *_quantizer("r"),  # 13, 14: the same names written again, after the matmul read them
    ("fetch", {"X": ["m"]}, {"Out": ["fetch"]}),
]
PARAMETERS = ["w", "b", "w@scale", "x@scale", "c@scale", "r@scale"]


def _slots(op: framework_pb2.OpDesc) -> Dict[str, List[str]]:
    return {s.parameter: list(s.arguments) for s in op.inputs}


def test_each_compared_variable_is_planned_from_its_float_sources_through_its_own_quantizers():
    block = _program(PROGRAM, PARAMETERS).blocks[0]
    assert "b.r" in constant_variables(block) and "c" not in constant_variables(block)
    plans = local_plans(block, ["c1", "m", "r", "x"])
    assert set(plans) == {"c1", "m"}  # relu's output and the input are written by no compute op
    conv, matmul = plans["c1"], plans["m"]
    # the input's quantizer, the conv, its bias add; not the weight's dequantize, nor the rounding of the conv's output
    assert conv.ops == (1, 2, 4, 8) and conv.sources == ("x",) and conv.unrounded == (("c.q.dq", "c"),)
    # the quantizer written before the matmul read it, not its later namesake
    assert matmul.ops == (10, 11, 12) and matmul.sources == ("r",) and matmul.unrounded == ()


def test_the_copies_read_the_fed_float_values_and_leave_the_program_as_it_was():
    desc = _program(PROGRAM, PARAMETERS)
    before = [op.SerializeToString() for op in desc.blocks[0].ops]
    plans = local_plans(desc.blocks[0], ["c1", "m"])
    copies = add_local_copies(desc, [plans["c1"], plans["m"]])
    ops = desc.blocks[0].ops
    assert [op.SerializeToString() for op in ops[:len(before)]] == before
    added = ops[len(before):]
    feeds = {op.outputs[0].arguments[0]: op.attrs[0].i for op in added if op.type == "feed"}
    assert feeds == {"x" + FEED_SUFFIX: 1, "r" + FEED_SUFFIX: 2}  # after the program's own feed, one per source
    by_type = {op.type: op for op in added if op.type in ("conv2d", "elementwise_add", "matmul_v2")}
    assert _slots(by_type["conv2d"])["Filter"] == ["w.dq"]  # the weight as the run leaves it
    quantizers = [op for op in added if op.type == "quantize_linear"]
    assert [_slots(op)["X"] for op in quantizers] == [["x" + FEED_SUFFIX], ["r" + FEED_SUFFIX]]  # only the inputs'
    assert _slots(by_type["conv2d"])["Input"] == ["x.q.dq@local.0"]
    # the bias add reads the conv copy's output unrounded, and the bias as the program computes it
    assert _slots(by_type["elementwise_add"]) == {"X": ["c@local.0"], "Y": ["b.r"]}
    assert _slots(by_type["matmul_v2"]) == {"X": ["r.q.dq@local.1"], "Y": ["r.q.dq@local.1"]}
    assert copies == {"c1": "c1@local.0", "m": "m@local.1"}
    declared = {v.name for v in desc.blocks[0].vars}
    assert {a for op in added for s in op.outputs for a in s.arguments if a != "feed"} <= declared
