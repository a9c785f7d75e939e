"""The debugger's findings: one row per compute op, ranked worst first, as JSON (schema below) and as a terminal table."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...export import onnx_u8_weights as u8_weights
from ...export.evaluation import IDENTICAL_SQNR_DB
from ...runtime.files import atomic_file

SCHEMA = "paddle-edge.quant-debug/1"
SCHEMA_FILE = Path(__file__).with_name("quant_debug.schema.json")
# A fused int8 kernel that lands more than this many quantization steps from the exact QDQ result on the same input
# codes is not rounding differently: it computes something else (the u8s8 saturation of x86 without VNNI, say).
KERNEL_STEP_LIMIT = 1
KERNEL_SAMPLES, KERNEL_GROUPS = 16, 2  # inputs the fused kernels are checked op by op on: 16 lines, or 2 detector pages
# An op whose exact int8 ONNX output is this much further from float than PaddleSlim's program in Paddle is lost in export.
EXPORT_LOSS_DB = 3.0
EXPORT_LOSS_KEYS = ("output_sqnr_db", "paddle_output_sqnr_db", "rounded_only_in_export", "output_sqnr_db_unrounded",
                    "quantizers_not_judged")


@dataclasses.dataclass(frozen=True)
class FusedVsExact:
    """The fused int8 kernel this CPU runs against the op's exact QDQ semantics, in quantization steps (its output
    codes, or its accumulator's unit where its output stays float): on the same input codes (local) and along the whole
    fused run (global)."""

    local_max_steps: int
    local_differing: float
    global_max_steps: int
    global_differing: float

    @property
    def deviates(self) -> bool:
        return self.local_max_steps > KERNEL_STEP_LIMIT


@dataclasses.dataclass(frozen=True)
class LayerRow:
    """One compute op, or one activation quantizer, of the int8 model against the float model."""

    kind: str  # "op" or "quantizer"
    position: int  # in the int8 graph's node list
    op: str
    op_type: str
    output: str
    precision: str
    weight: Optional[str]
    flops_share: float
    local_sqnr_db: Optional[float]  # None: not measured (an input the float model does not have); 999: identical to float
    local_cosine: Optional[float]
    global_sqnr_db: float
    global_cosine: float
    paddle_global_sqnr_db: Optional[float]  # PaddleSlim's program in Paddle vs the float ONNX, same tensor (with --int8-model)
    # how much the model output's SQNR against float rises when this op alone reads its activations unquantized: the
    # measured sensitivity the ranking puts first (None: not an int8 op)
    float_input_gain_db: Optional[float]
    weight_range: Optional[Tuple[float, float]]
    weight_scale: Optional[Tuple[float, float]]
    activation_range: Optional[Tuple[float, float]]  # seen on the data, of its first quantized input
    activation_calibrated: Optional[Tuple[float, float]]  # what that input's scale can represent
    clipped_fraction: Optional[float]
    fused: Optional[FusedVsExact]
    histogram: Optional[Dict[str, List[float]]]  # float and int8 (exact) values on shared bins: edges, float, int8
    paddle_global_cosine: Optional[float] = None  # the same comparison's cosine similarity (reports before it lack it)
    # the program's op computed from the float model's own inputs (its quantizers and weights only), against float
    # (None: no compute op of the program writes it from variables the float model has; reports before it lack it)
    paddle_local_sqnr_db: Optional[float] = None
    paddle_local_cosine: Optional[float] = None

    @property
    def rank_key(self) -> Tuple[float, float]:
        """Worst first: the int8 ops whose float inputs would help the model's output most, by that gain; then every other
        row by the SQNR it adds on its own; rows with nothing measured last."""
        gain = -self.float_input_gain_db if self.float_input_gain_db is not None else math.inf
        return gain, math.inf if self.local_sqnr_db is None else self.local_sqnr_db


@dataclasses.dataclass(frozen=True)
class QuantDebugReport:
    """Every compute op, ranked; what was compared, on which data and engines."""

    model: str
    float_file: str
    int8_file: str
    fused_file: str
    fused_engine: str
    paddle_int8_model: Optional[str]
    output_sqnr_db: float  # the int8 ONNX's model output against float's, every sample
    # with --int8-model: the int8 ONNX's tensors it quantizes where PaddleSlim's program does not (no quantizer there, or
    # a quantize_linear with only_observer, which passes the value on as it is), the int8 ONNX's output SQNR with those
    # left unquantized, and the program's own
    rounded_only_in_export: Tuple[str, ...]
    quantizers_not_judged: int  # of the ONNX's: their value matches no variable of the program (paddle2onnx's own nodes)
    output_sqnr_db_unrounded: Optional[float]
    paddle_output_sqnr_db: Optional[float]
    rewrites: Dict[str, int]  # what export did to PaddleSlim's int8 graph (export/onnx_qdq_layout.py)
    samples: int
    gain_samples: int  # the first samples, whole groups, the gains were measured on
    data: str
    rows: Tuple[LayerRow, ...]
    seconds: float
    provenance: Dict[str, Any]
    # with --int8-model: the program exported again step by step, the output's SQNR after each (export_steps.py)
    export_steps: Optional[Dict[str, Any]] = None

    @property
    def ranked(self) -> List[LayerRow]:
        return sorted(self.rows, key=lambda r: (r.rank_key, r.position))

    @property
    def lost_in_export(self) -> List[LayerRow]:
        """Ops whose int8 ONNX is much further from float than PaddleSlim's program in Paddle (with --int8-model)."""
        return [r for r in self.rows if r.paddle_global_sqnr_db is not None
                and r.global_sqnr_db < min(r.paddle_global_sqnr_db, IDENTICAL_SQNR_DB) - EXPORT_LOSS_DB]

    @property
    def lost_in_export_locally(self) -> List[LayerRow]:
        """Ops that, on the float model's own inputs, add much more error in the int8 ONNX than in PaddleSlim's program:
        the op itself computes something else after export (with --int8-model)."""
        return [r for r in self.rows if r.paddle_local_sqnr_db is not None and r.local_sqnr_db is not None
                and r.local_sqnr_db < min(r.paddle_local_sqnr_db, IDENTICAL_SQNR_DB) - EXPORT_LOSS_DB]

    @property
    def deviating_kernels(self) -> List[LayerRow]:
        return [r for r in self.rows if r.fused is not None and r.fused.deviates]

    def to_json(self) -> Dict[str, Any]:
        return {"schema": SCHEMA, **{k: v for k, v in dataclasses.asdict(self).items() if k != "rows"},
                "kernel_step_limit": KERNEL_STEP_LIMIT,
                "ranking": [r.output for r in self.ranked],
                "deviating_kernels": [r.output for r in self.deviating_kernels],
                "lost_in_export": [r.output for r in self.lost_in_export], "export_loss_db": EXPORT_LOSS_DB,
                "lost_in_export_locally": [r.output for r in self.lost_in_export_locally],
                "rows": [dataclasses.asdict(r) for r in self.rows]}

    def save(self, path: Path) -> None:
        with atomic_file(Path(path)) as tmp:
            tmp.write_text(json.dumps(self.to_json(), indent=1, allow_nan=False))


def _db(value: Optional[float]) -> str:
    return "" if value is None else "exact" if value >= IDENTICAL_SQNR_DB else f"{value:6.1f}"


def _signed(db: float) -> str:
    return f"{round(db, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def export_loss_text(report: Mapping[str, Any]) -> str:
    """Where the int8 ONNX and PaddleSlim's program part, measured on the model's output: the quantizers the export puts
    where the program does not quantize, and the rest. `report`: the report's JSON (with --int8-model)."""
    output = f"model output against float: int8 ONNX {_db(report['output_sqnr_db']).strip()} dB"
    paddle = f"PaddleSlim's program in Paddle {_db(report['paddle_output_sqnr_db']).strip()} dB"
    extra, unquantized = report["rounded_only_in_export"], report["output_sqnr_db_unrounded"]
    n = report.get("quantizers_not_judged") or 0
    unjudged = (f"{_count(n, 'quantizer')} not judged, their values computed by nodes paddle2onnx adds, matching no "
                "variable of the program, so this is a lower bound") if n else ""
    if report["paddle_output_sqnr_db"] is None:
        return f"{output}; the program's output is not the ONNX's, so the export's share is not measured"
    if not extra or unquantized is None:
        return f"{output}, {paddle}; the ONNX quantizes no value the program leaves unquantized{'; ' + unjudged if unjudged else ''}"
    gap = report["paddle_output_sqnr_db"] - report["output_sqnr_db"]
    extra_share = unquantized - report["output_sqnr_db"]
    return (f"the ONNX quantizes {_count(len(extra), 'value')} the program does not (it has no quantizer there, or one with "
            f"only_observer, which passes the value on as it is{'; ' + unjudged if unjudged else ''}), first {extra[0]}; {output}, "
            f"{_db(unquantized).strip()} dB with those left unquantized, {paddle}: of the {_signed(gap)} dB between the "
            f"program and the ONNX, those quantizers take {_signed(extra_share)} dB, the rest of the export (paddle2onnx "
            f"and the rewrites) {_signed(gap - extra_share)} dB")


def step_changes(step: str, applied: Mapping[str, int]) -> int:
    """How many places an export step changed: its own count where it records one under its name (restoring MatMul
    quantizers also counts those it left float), else all it records (the two affine rewrites)."""
    return applied[step] if step in applied else sum(applied.values())


def export_steps_text(found: Mapping[str, Any]) -> str:
    """The export step by step: the model output's SQNR against float after paddle2onnx and each rewrite that applied,
    and the step that loses most. `found`: a report's `export_steps`."""
    steps = found["steps"]
    said = [f"{steps[0]['step']} {_db(steps[0]['output_sqnr_db']).strip()} dB"]
    worst: Optional[Tuple[str, float]] = None
    for before, step in zip(steps, steps[1:]):
        applied = step_changes(step["step"], step["applied"])
        if applied:
            change = step["output_sqnr_db"] - before["output_sqnr_db"]
            said.append(f"{step['step']} ({applied}) {_signed(change)}")
            if worst is None or change < worst[1]:
                worst = (step["step"], change)
    text = (f"the export step by step, model output against float in each file's exact int8 semantics on the first "
            f"{found['samples']} samples: " + "; ".join(said) + " dB")
    if worst is not None and round(worst[1], 1) < 0:
        text += f"; most lost by {worst[0]} ({_signed(worst[1])} dB)"
    if not found["reproduces_bundle"]:
        text += " (this release exports the int8 model otherwise than the bundle's file: the steps are this release's)"
    return text


def kernel_fix(deviating: List[LayerRow], fused_file: str) -> str:
    """What to do about fused kernels that compute something else on this CPU: keep their ops in float, by the Paddle
    weights compress takes (an op without a weight cannot be named); where they ran the int8-weight file, first the
    uint8-weight one export writes for x86-64 without VNNI (export/onnx_u8_weights.py)."""
    weights = sorted({r.weight for r in deviating if r.weight})
    unnamed = [r.output for r in deviating if not r.weight]
    fixes = [f"keep their ops in float: `paddle-edge compress ... {' '.join(f'--keep-float {w}' for w in weights)}`"] if weights else []
    fixes += [f"{', '.join(unnamed[:4])}{' ...' if len(unnamed) > 4 else ''} ha{'s' if len(unnamed) == 1 else 've'} no weight "
              "for --keep-float to name"] if unnamed else []
    if fused_file != u8_weights.FILE:
        fixes.insert(0, f"if this CPU is x86-64 without VNNI, the uint8-weight int8 file export writes for it ({u8_weights.ARTIFACT}, "
                        f"which runtime.open runs there) rather than {fused_file}")
    return "; ".join(fixes)


def format_table(report: QuantDebugReport, top: int) -> str:
    """The `top` worst ops as a terminal table, then the kernels that deviate from the exact int8 semantics."""
    paddle = report.paddle_int8_model is not None
    head = f"{'rank':>4}  {'op':<28} {'type':<8} {'precision':<9} {'FLOPs':>6} {'gain dB':>7} {'local dB':>8} {'global dB':>9} " \
           + (f"{'P. local':>8} {'P. global':>9} " if paddle else "") + f"{'cosine':>8} {'clipped':>8} {'fused vs exact':>15}"
    ops = sum(r.kind == "op" for r in report.rows)
    lines = [f"{report.model}: {ops} compute ops and {len(report.rows) - ops} activation quantizers, {report.samples} samples of "
             f"{report.data}",
             f"float {report.float_file} vs int8 {report.int8_file} (exact QDQ); fused: {report.fused_file} on {report.fused_engine}",
             head, "-" * len(head)]
    for rank, r in enumerate(report.ranked[:top], 1):
        precision = "act-q" if r.kind == "quantizer" else "int8" if r.precision == "int8" else (
            "w-round" if r.precision.endswith("weights") else "in-round" if r.precision.endswith("inputs") else "float")
        clipped = "" if r.clipped_fraction is None else f"{100 * r.clipped_fraction:7.3f}%"
        fused = "" if r.fused is None else f"{r.fused.local_max_steps} step, {100 * r.fused.global_differing:4.1f}%"
        gain = "" if r.float_input_gain_db is None else f"{r.float_input_gain_db:+.2f}"
        lines.append(f"{rank:>4}  {r.output[:28]:<28} {r.op_type[:8]:<8} {precision:<9} {100 * r.flops_share:5.1f}% {gain:>7} "
                     f"{_db(r.local_sqnr_db):>8} {_db(r.global_sqnr_db):>9} "
                     + (f"{_db(r.paddle_local_sqnr_db):>8} {_db(r.paddle_global_sqnr_db):>9} " if paddle else "")
                     + f"{r.global_cosine:8.5f} {clipped:>8} {fused:>15}")
    lines.append(f"gain: the model output's SQNR gained when the op alone reads float inputs (what ranks it; on the first "
                 f"{report.gain_samples} samples); "
                 "local: the error the op adds on the float model's own inputs; global: accumulated up to it; "
                 "fused vs exact: largest difference in quantization steps (output codes; a float output's accumulator unit) on the "
                 "same input codes, share of values differing along the run")
    if paddle:
        lost = report.lost_in_export
        alone = report.lost_in_export_locally
        lines.append(f"P. local, P. global: PaddleSlim's int8 program ({report.paddle_int8_model}) in Paddle against the float ONNX, "
                     "the op computed from the float model's own inputs, and along the program's run; "
                     + (f"{len(lost)} ops lose more than {EXPORT_LOSS_DB:g} dB in export, first {lost[0].output} "
                        f"(Paddle {_db(lost[0].paddle_global_sqnr_db).strip()} dB, ONNX {_db(lost[0].global_sqnr_db).strip()} dB)"
                        if lost else f"no op loses more than {EXPORT_LOSS_DB:g} dB in export")
                     + (f"; on the float model's own inputs, {len(alone)} ops add more than {EXPORT_LOSS_DB:g} dB more error in "
                        f"the ONNX than in the program, first {alone[0].output} (Paddle {_db(alone[0].paddle_local_sqnr_db).strip()} "
                        f"dB, ONNX {_db(alone[0].local_sqnr_db).strip()} dB)"
                        if alone else f"; on the float model's own inputs, no op adds more than {EXPORT_LOSS_DB:g} dB more error "
                        "in the ONNX than in the program"))
        lines.append(export_loss_text({k: getattr(report, k) for k in EXPORT_LOSS_KEYS}))
        if report.export_steps:
            lines.append(export_steps_text(report.export_steps))
    bad = report.deviating_kernels
    if bad:
        lines.append(f"{len(bad)} fused kernels land more than {KERNEL_STEP_LIMIT} step from the exact int8 result on this CPU: "
                     + ", ".join(r.output for r in bad[:8]) + f" ({kernel_fix(bad, report.fused_file)})")
    else:
        lines.append(f"every fused int8 kernel is within {KERNEL_STEP_LIMIT} quantization step of the exact int8 result on this CPU")
    return "\n".join(lines)

