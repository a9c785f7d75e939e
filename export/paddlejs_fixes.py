"""The four changes a Paddle 3 model's Paddle.js model.json needs before @paddlejs/paddlejs-core 2.2.0 and
paddlejs-backend-webgl 1.2.9 run it. paddlejsconverter 1.0.8 writes what Paddle 3's program holds; the runtime still
expects Paddle 2's. Each was found from the error the browser gave without it:

1. `shape: []` (batch_norm's SavedMean/SavedVariance, 0-d and empty in an inference program): core's
   Loader.allocateParamsVar multiplies the shape with `reduce` and no initial value -> "TypeError: Reduce of empty
   array with no initial value". They become [1].
2. conv2d without a `fuse_relu` attribute (Paddle 3 dropped it): the webgl conv2d shader is written with
   `if (${fuse_relu})`, which compiles to `if (undefined)` -> "'undefined' : undeclared identifier". It becomes false.
3. A conv bias Paddle 3 exports as reshape2(bias [C]) -> [1, C, 1, 1] feeding elementwise_add: core's graph walk
   (GraphGenerator's topological sort) never reaches an op whose only input is a parameter, so the op chain ends early
   and running recurses forever ("Maximum call stack size exceeded"). The reshape is dropped and the add reads the [C]
   bias with axis 1, as Paddle 2 wrote it.
4. softmax over the last axis of a tensor of fewer than 4 dimensions, written as a non-negative axis (PaddleOCR's
   classifier: axis 1 of [N, 2]): the WebGL kernel takes the axis on the tensor padded to 4-D ([1, 1, 1, 2]), where axis 1
   has size 1, so every output is 1 (measured: 50 % agreement with Paddle Inference). It becomes -1, which the kernel
   reads as the last axis (measured: the same probabilities as Paddle Inference).

Any other op reading parameters only, and a softmax over another axis of a tensor under 4-D, is refused by name
(`not_runnable`)."""
from __future__ import annotations

from typing import Any, Dict, List

CONVS = ("conv2d", "depthwise_conv2d", "conv2d_transpose")


def _outputs(op: Dict[str, Any]) -> str:
    return ", ".join(n for names in op["outputs"].values() for n in names)


def _persistable(model: Dict[str, Any], name: str) -> bool:
    return bool(model["vars"].get(name, {}).get("persistable"))


def _bias_reshape(model: Dict[str, Any], op: Dict[str, Any]) -> bool:
    """A reshape2 of a [C] parameter to [1, C, 1, 1], read only by elementwise_add as its Y."""
    if op["type"] != "reshape2" or not _persistable(model, op["inputs"]["X"][0]):
        return False
    shape = model["vars"][op["inputs"]["X"][0]]["shape"]
    out = op["outputs"]["Out"][0]
    readers = [o for o in model["ops"] if any(out in names for names in o["inputs"].values())]
    return (len(shape) == 1 and list(op["attrs"].get("shape", [])) == [1, shape[0], 1, 1]
            and bool(readers) and all(o["type"] == "elementwise_add" and o["inputs"].get("Y") == [out] for o in readers))


def fix_for_paddlejs(model: Dict[str, Any]) -> List[str]:
    """Apply the four changes of the module docstring to a model.json, in place; what was changed, one line each."""
    done = []
    for name, var in model["vars"].items():
        if var.get("shape") == []:
            var["shape"] = [1]
            done.append(f"{name}: shape [] -> [1]")
    for op in model["ops"]:
        if op["type"] in CONVS and "fuse_relu" not in op["attrs"]:
            op["attrs"]["fuse_relu"] = False
            done.append(f"{op['type']} -> {_outputs(op)}: fuse_relu = false")
    for op in model["ops"]:
        rank = len(model["vars"].get(op["inputs"].get("X", [""])[0], {}).get("shape", []))
        if op["type"] == "softmax" and 0 < rank < 4 and op["attrs"].get("axis") == rank - 1:
            op["attrs"]["axis"] = -1
            done.append(f"softmax -> {_outputs(op)}: axis {rank - 1} of {rank}-D -> -1")
    for op in [o for o in model["ops"] if _bias_reshape(model, o)]:
        bias, out = op["inputs"]["X"][0], op["outputs"]["Out"][0]
        for reader in model["ops"]:
            if reader["inputs"].get("Y") == [out]:
                reader["inputs"]["Y"], reader["attrs"]["axis"] = [bias], 1
        model["ops"].remove(op)
        for names in op["outputs"].values():
            for name in names:
                model["vars"].pop(name, None)
        done.append(f"reshape2({bias}) dropped: elementwise_add reads {bias} with axis 1")
    return done


def not_runnable(model: Dict[str, Any]) -> List[str]:
    """What paddlejs-core 2.2.0 would run wrong after the changes, one line each: ops (other than feed) whose inputs are
    all parameters, which core never schedules, and a softmax over another than the last axis of a tensor under 4-D,
    which the WebGL kernel would take on the padded tensor (only the last axis, -1, is measured right)."""
    found = [f"{op['type']} -> {_outputs(op)}: its inputs are all parameters" for op in model["ops"]
             if op["type"] != "feed" and all(_persistable(model, n) for names in op["inputs"].values() for n in names)]
    for op in (o for o in model["ops"] if o["type"] == "softmax"):
        rank = len(model["vars"].get(op["inputs"]["X"][0], {}).get("shape", []))
        if rank < 4 and op["attrs"].get("axis", -1) != -1:
            found.append(f"softmax -> {_outputs(op)}: axis {op['attrs']['axis']} of a {rank}-D tensor")
    return found
