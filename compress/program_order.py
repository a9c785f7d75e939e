"""A quantized Paddle program with its ops in one canonical order, so that the same command writes the same bytes.

PaddleSlim inserts quantize/dequantize ops while walking graph nodes held in sets ordered by memory address, so ops on
parallel branches (a conv's output and its bias's reshape, say) come out in another order from run to run: the same
function in other bytes, hence another sha256 in every manifest built from it. Sorting each block's ops topologically,
ties broken by the ops' own serialized content, makes the file a function of the model alone.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

from paddle.base.proto import framework_pb2

from ..source.paddle_program import program_desc

FIRST_LAST = {"feed": 0, "fetch": 2}  # every other op type ranks 1


def _dependencies(ops: List[framework_pb2.OpDesc]) -> List[Set[int]]:
    """For each op, the earlier ops it must follow: the last writer of what it reads or writes, and the readers of what
    it overwrites since their last write (in-place ops such as batch_norm's running mean keep their place)."""
    last_writer: Dict[str, int] = {}
    readers: Dict[str, List[int]] = defaultdict(list)
    deps: List[Set[int]] = []
    for i, op in enumerate(ops):
        reads = [name for var in op.inputs for name in var.arguments]
        writes = [name for var in op.outputs for name in var.arguments]
        found = {last_writer[n] for n in reads + writes if n in last_writer} | {r for n in writes for r in readers[n]}
        found.discard(i)
        deps.append(found)
        for n in reads:
            readers[n].append(i)
        for n in writes:
            last_writer[n], readers[n] = i, []
    return deps


def canonical_order(ops: List[framework_pb2.OpDesc]) -> List[framework_pb2.OpDesc]:
    """`ops` in topological order of their data dependencies; among the ops ready, feeds first, fetches last, then the
    smallest serialized op."""
    deps = _dependencies(ops)
    keys = [(FIRST_LAST.get(op.type, 1), op.SerializeToString()) for op in ops]
    followers: Dict[int, List[int]] = defaultdict(list)
    waiting = [len(d) for d in deps]
    for i, d in enumerate(deps):
        for j in d:
            followers[j].append(i)
    ready = [(keys[i], i) for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order: List[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for f in followers[i]:
            waiting[f] -= 1
            if waiting[f] == 0:
                heapq.heappush(ready, (keys[f], f))
    return [ops[i] for i in order]


def canonicalize_program(path: Path) -> None:
    """Rewrite the program file at `path` (inside a writer's temporary directory) with every block's ops in canonical order."""
    program = program_desc(Path(path))
    for block in program.blocks:
        ordered = [framework_pb2.OpDesc.FromString(op.SerializeToString()) for op in canonical_order(list(block.ops))]
        del block.ops[:]
        block.ops.extend(ordered)
    Path(path).write_bytes(program.SerializeToString())
