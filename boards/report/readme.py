"""`paddle-edge readme`: the README's measured figures, written from the JSON that runs produced.

Each measured table of the README sits between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->`; its text is what the
generator NAME below writes from JSON files committed in `boards/report/figures/` (copied there from the run that made
them, see SOURCES), and it ends with the command, date, CPU and commit that produced that JSON. `--check` reports every
block the generator would write differently, so a table typed by hand or left behind by a newer run fails the tests.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Sequence

from ...compress.accuracy_search import ratio_text
from ...export.onnx_qdq_layout import FOLD_REWRITES
from ...runtime.errors import PaddleEdgeError
from ..bench.engines import is_peer
from ..board_parity import ANSWER_KEYS
from ..browser.board import PADDLEJS_ARTIFACT as PJS, node_split
from ..quant_debug.report import KERNEL_STEP_LIMIT, export_loss_text, export_steps_text

FIGURES = Path(__file__).resolve().parent / "figures"
BLOCK = re.compile(r"<!-- figures:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /figures:(?P=name) -->", re.S)
Json = Dict[str, Any]
STAGES = ("data", "train", "compress", "export", "run", "parity", "tune", "bench", "report")  # the demo's, in order
PARITY_ENGINES = ("paddle_fp32", "onnx_fp32", "onnx_int8_exact", "onnx_int8")
BENCH_ENGINES = ("paddle_inference_fp32", "paddle_inference_int8", "onnxruntime_fp32", "onnxruntime_int8", "bare_onnxruntime_fp32")
# The OCR tour's speed runs (bench, and tune before it): file -> command. Its figures sit in figures/ocr/avx2/ (measured on an
# x86 CPU with AVX2 only) and figures/ocr/vnni/ (with AVX-512 VNNI), the same commands on each
OCR_BENCH_COMMANDS = {f"bench-{name}.json": f"paddle-edge bench bundles/ppocr-{name} --threads 2 --batch {batch} --shape x:1x3x{size} "
                      f"--calls {calls} --paddle-int8 runs/ocr/{int8} --json bench-{name}.json"
                      for name, batch, size, calls, int8 in (("cls", "1,6", "48x192", 100, "cls-int8"),
                                                             ("rec-ac", "1,6", "48x320", 50, "rec-int8-ac"),
                                                             ("det", "1", "640x640", 30, "det-int8"))}
QUANT_DEBUG_REC = {f"ocr/{kind}/quant-debug-rec.json": "paddle-edge quant-debug bundles/ppocr-rec --data runs/ocr/rec-val/rec_gt.txt "
                                                       "--int8-model runs/ocr/rec-int8 --json quant-debug-rec.json" for kind in ("avx2", "vnni")}
OCR_TUNE_COMMANDS = {f"tune-{name}.json": f"paddle-edge tune bundles/ppocr-{name} --data runs/ocr/{kind}-test/{kind}_gt.txt "
                     f"--batch {batch} --calls {calls} --json tune-{name}.json"
                     for name, kind, batch, calls in (("cls", "cls", "1,6", 100), ("rec-ac", "rec", "1,6", 50), ("det", "det", "1", 30))}
# the detector exported with --fold-quantizers, tuned first: in the folds block and in the speed tables
BENCH_DET_FOLD = ("paddle-edge bench bundles/ppocr-det-fold --threads 2 --batch 1 --shape x:1x3x640x640 --calls 30 "
                  "--paddle-int8 runs/ocr/det-int8 --json bench-det-fold.json")
# when each two-thread run of rec-ac256w with the batch split (bench --settings parallel=batch) ended, UTC
SPLIT_RUNS = ("1108", "1111", "1113", "1122", "1127", "1132")
# Block name -> the files (relative to FIGURES) it is written from, and the command that writes each in a checkout.
SOURCES: Dict[str, Dict[str, str]] = {
    "demo": {"demo/demo.json": "make demo", "demo/parity.json": "make demo"},
    "demo-bench": {"demo/bench.json": "make demo"},
    "zoo": {"zoo.json": "paddle-edge zoo --json zoo.json"},
    "resnet-bench": {"resnet-bench.json": "paddle-edge bench bundles/resnet --threads 1,2 --batch 1,64 --json resnet-bench.json"},
    "board-parity": {"board-parity-rpi4.json": "paddle-edge board parity rpi4 build/demo/bundle --json board-parity-rpi4.json",
                     "board-parity-rpi5-trixie.json":
                         "paddle-edge board parity rpi5-trixie build/demo/bundle --json board-parity-rpi5-trixie.json",
                     "board-parity-browser.json": "paddle-edge board parity browser build/demo/bundle --json board-parity-browser.json"},
    "board-ocr": {f"ocr/board/board-parity-{name}.json": f"paddle-edge board parity rpi4 bundles/ppocr-{name} --data "
                  f"runs/ocr/{kind}-test/{kind}_gt.txt --json board-parity-{name}.json"
                  for name, kind in (("cls", "cls"), ("rec", "rec"), ("rec-ac", "rec"), ("det", "det"))},
    "board-lite": {f"ocr/board/board-parity-{name}-paddlelite.json": f"paddle-edge board parity rpi4 bundles/ppocr-{name} --data "
                   f"runs/ocr/{kind}-test/{kind}_gt.txt --backend paddlelite --json board-parity-{name}-paddlelite.json"
                   for name, kind in (("cls", "cls"), ("rec", "rec"), ("rec-ac", "rec"), ("det", "det"))},
    "browser-ocr": {f"ocr/browser/board-parity-{name}.json": f"paddle-edge board parity browser bundles/ppocr-{bundle} --data "
                    f"runs/ocr/{name}-test/{name}_gt.txt --json board-parity-{name}.json"
                    for name, bundle in (("cls", "cls-web"), ("rec", "rec"), ("det", "det"))},
    # Paddle.js on each image model of the zoo (trained with `paddle-edge train NAME`, exported with the paddlejs target)
    "browser-zoo": {f"browser-zoo/board-parity-{name}.json": f"paddle-edge board parity browser bundles/{name}-web --gpu none "
                    f"--json board-parity-{name}.json" for name in ("softmax", "mlp", "lenet", "resnet")},
    "robustness": {"robustness.json": "make test"},
    "page": {"browser/page.json": "make test"},  # with browser/page.png, the screenshot the same test keeps
    "tune": {"demo/tune.json": "make demo",
             "tune-resnet.json": "paddle-edge tune bundles/resnet --batch 1,64 --json tune-resnet.json",
             **{f"ocr/vnni/{name}": command for name, command in OCR_TUNE_COMMANDS.items()},
             # the recogniser held to its interval on 256 lines, in ONNX Runtime at two threads, where the batch split is a candidate
             "ocr/vnni/lines/tune-rec-ac256w.json": "paddle-edge tune bundles/ppocr-rec-ac256w --backends onnxruntime --threads 2 "
             "--data runs/ocr/rec-test300/rec_gt.txt --batch 1,6 --calls 50 --json tune-rec-ac256w.json",
             # the detector exported with --fold-quantizers (its upsamplings and DB head on int8 kernels), every engine
             "ocr/vnni/layout/tune-det-fold.json": "paddle-edge tune bundles/ppocr-det-fold --data runs/ocr/det-test/det_gt.txt "
             "--batch 1 --calls 30 --json tune-det-fold.json"},
    "tune-avx2": {f"ocr/avx2/{name}": command for name, command in OCR_TUNE_COMMANDS.items()},
    # the same commands on two kinds of x86 CPU: AVX2 only (the runtime runs the uint8-weight file) and with VNNI
    **{block: {f"ocr/{folder}parity-{name}.json": f"paddle-edge parity bundles/ppocr-{name} --data runs/ocr/{kind}-test/{kind}_gt.txt "
               f"--no-latency --json parity-{name}.json" for name, kind in (("cls", "cls"), ("rec", "rec"), ("rec-ac", "rec"), ("det", "det"))}
       for block, folder in (("ocr", "avx2/"), ("ocr-vnni", "vnni/"))},
    "speed-peers": {"demo/bench.json": "make demo",
                    "resnet-bench.json": "paddle-edge bench bundles/resnet --threads 1,2 --batch 1,64 --json resnet-bench.json",
                    **{f"ocr/vnni/{name}": command for name, command in OCR_BENCH_COMMANDS.items()},
                    "ocr/vnni/layout/bench-det-fold.json": BENCH_DET_FOLD},
    "speed-peers-avx2": {f"ocr/avx2/{name}": command for name, command in OCR_BENCH_COMMANDS.items()},
    # the ResNet and the detector (default layout and --fold-quantizers) on an Intel CPU with AMX: parity, tune, bench
    "ocr-amx": {f"amx/parity-{name}.json": f"paddle-edge parity bundles/ppocr-{name} --data runs/ocr/det-test/det_gt.txt "
                f"--no-latency --json parity-{name}.json" for name in ("det", "det-fold")},
    "tune-amx": {"amx/tune-resnet.json": "paddle-edge tune bundles/resnet --batch 1,64 --json tune-resnet.json",
                 "amx/tune-det.json": OCR_TUNE_COMMANDS["tune-det.json"],
                 "amx/tune-det-fold.json": "paddle-edge tune bundles/ppocr-det-fold --data runs/ocr/det-test/det_gt.txt "
                 "--batch 1 --calls 30 --json tune-det-fold.json"},
    "speed-peers-amx": {"amx/resnet-bench.json": "paddle-edge bench bundles/resnet --threads 1,2 --batch 1,64 --json resnet-bench.json",
                        "amx/bench-det.json": OCR_BENCH_COMMANDS["bench-det.json"], "amx/bench-det-fold.json": BENCH_DET_FOLD},
    # the debugger's run on the recogniser's plain int8 bundle, then accuracy control keeping ops in float, shipped and debugged
    "accuracy-control": {
        "ocr/avx2/quant-debug-rec.json": QUANT_DEBUG_REC["ocr/avx2/quant-debug-rec.json"],
        "ocr/avx2/parity-rec-float.json": "paddle-edge parity bundles/ppocr-rec-float --data runs/ocr/rec-test/rec_gt.txt --no-latency "
                                          "--json parity-rec-float.json",
        "ocr/avx2/quant-debug-rec-float.json": "paddle-edge quant-debug bundles/ppocr-rec-float --data runs/ocr/rec-val/rec_gt.txt "
                                               "--json quant-debug-rec-float.json"},
    # the debugger on the detector's int8 bundle with PaddleSlim's program: where the ONNX parts from it
    "export-loss": {"ocr/vnni/quant-debug-det.json": "paddle-edge quant-debug bundles/ppocr-det --data runs/ocr/det-test/det_gt.txt "
                                                     "--int8-model runs/ocr/det-int8 --json quant-debug-det.json",
                    "ocr/vnni/quant-debug-rec.json": QUANT_DEBUG_REC["ocr/vnni/quant-debug-rec.json"]},
    # export --fold-quantizers on the VNNI machine: the accuracy-controlled recogniser scored with the folds, the detector
    # exported with them, each one's parity, and int8's time over fp32's per engine beside the default layout's bundles
    # (in a folder of their own: its default-layout runs are a later run of the speed tables' commands, the bundles'
    # tunings of session 31 being of a schema this release no longer reads)
    "folds": {"ocr/vnni/layout/parity-rec-ac-fold.json": "paddle-edge parity bundles/ppocr-rec-ac-fold --data "
                                                         "runs/ocr/rec-test/rec_gt.txt --no-latency --json parity-rec-ac-fold.json",
              "ocr/vnni/layout/parity-det-fold.json": "paddle-edge parity bundles/ppocr-det-fold --data "
                                                      "runs/ocr/det-test/det_gt.txt --no-latency --json parity-det-fold.json",
              **{f"ocr/vnni/layout/{name}": command for name, command in OCR_BENCH_COMMANDS.items() if "cls" not in name},
              "ocr/vnni/layout/bench-rec-ac-fold.json": "paddle-edge bench bundles/ppocr-rec-ac-fold --threads 2 --batch 1,6 "
                                                        "--shape x:1x3x48x320 --calls 50 --json bench-rec-ac-fold.json",
              "ocr/vnni/layout/bench-det-fold.json": BENCH_DET_FOLD},
    # accuracy control of the recogniser with --fold-quantizers on 256 validation and 128 calibration lines, the kept
    # file's parity on 300 test lines, and its bench (the VNNI machine); then in the default layout, held to the interval,
    # benched more than once, at two threads and at one (a later run's file name ends in the time it ended, UTC)
    "more-lines": {**{f"ocr/vnni/lines/parity-{name}.json": f"paddle-edge parity bundles/ppocr-{name} --data "
                      f"runs/ocr/rec-test300/rec_gt.txt --no-latency --json parity-{name}.json" for name in ("rec-ac256", "rec-ac256w")},
                   **{f"ocr/vnni/lines/bench-{name}{run}.json": f"paddle-edge bench bundles/ppocr-{name} --threads {threads} --batch 1,6 "
                      f"--shape x:1x3x48x320 --calls 50{' --settings parallel=batch' if '-split' in run else ''} --json bench-{name}{run}.json"
                      for name, threads, run in (("rec-ac256", 2, ""), ("rec-ac256w", 2, ""), ("rec-ac256w", 2, "-0801"),
                                                 ("rec-ac256w", 2, "-0814"), ("rec-ac256w", 1, "-1thread-0807"),
                                                 ("rec-ac256w", 1, "-1thread-0817"), ("rec-ac256w", 2, "-0852"),
                                                 ("rec-ac256w", 2, "-0854"), ("rec-ac256w", 2, "-0857"), ("rec-ac256w", 2, "-1119"),
                                                 ("rec-ac256w", 2, "-1124"), ("rec-ac256w", 2, "-1129"),
                                                 *(("rec-ac256w", 2, f"-split-{end}") for end in SPLIT_RUNS))}},
    "peer-nncf": {"ocr/vnni/peer-nncf-rec.json": "paddle-edge peer nncf bundles/ppocr-rec --ours bundles/ppocr-rec-ac --calibration "
                  "runs/ocr/rec-calibration --data runs/ocr/rec-val/rec_gt.txt --test runs/ocr/rec-test/rec_gt.txt --max-drop 0.75 "
                  "--json peer-nncf-rec.json"},
}
OCR_METRICS = {"classification": ("top1", "top-1"), "text_recognition": ("char_acc", "character accuracy"),
               "text_detection": ("f1", "box F1 at IoU 0.5")}


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def _us(x: float) -> str:
    return f"{x:,.0f} us" if x >= 100 else f"{x:.1f} us"


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _provenance(files: Mapping[str, Json]) -> str:
    """The line under a block: each source file with the command and date that produced it, then the machine and commit
    (once when all files share them)."""
    where = lambda p: f"{p['cpu']['label']}, Python {p.get('python', '?')}, commit `{p['commit']}`"  # noqa: E731
    runs = [(name, data["provenance"]) for name, data in files.items()]
    shared = len({where(p) for _, p in runs}) == 1
    parts = [f"`{name}` (`{p['command']}`, {p['date'][:16].replace('T', ' ')} UTC{'' if shared else ', ' + where(p)})" for name, p in runs]
    return f"<sub>Written by `paddle-edge readme` from {', '.join(parts)}" + (f"; on {where(runs[0][1])}" if shared else "") + ".</sub>"


def _interval_text(value: float, low: float, high: float) -> str:
    """A ratio with its 95 % interval: "0.79 [0.75, 0.82]"."""
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _ordered(keys: Sequence[str], first: Sequence[str]) -> List[str]:
    """`keys` with those named in `first` leading, in that order (the JSON is written with sorted keys)."""
    return sorted(keys, key=lambda k: (first.index(k) if k in first else len(first), k))


def _scores(scores: Json) -> str:
    return _pct(scores["top1"]) if "top1" in scores else f"MSE {scores['mse']:.3f}" if "mse" in scores else "-"


def _versus(part: Json) -> str:
    agreement = f", argmax {_pct(part['argmax_agreement'])}" if "argmax_agreement" in part else ""
    return f"max abs diff {part['max_abs_diff']:.2g}{agreement}"


def _int8_candidates(compressed: Json) -> str:
    """The demo's int8 candidates: each as its exported file scored (what chose), and PaddleSlim's program in Paddle."""
    def scores(key: str) -> str:
        return "; ".join(f"{method.upper()} validation {_pct(c[key]['val_top1'])}, test {_pct(c[key]['top1'])}"
                         for method, c in compressed.items())
    validation = [c["int8_onnx"]["val_top1"] for c in compressed.values()]
    shipped = next(method for method, c in compressed.items() if c["shipped"]).upper()
    rule = (f"tied on validation at {_pct(max(validation))}, {shipped} ships, the first tried" if validation.count(max(validation)) > 1
            else f"{shipped} ships, better on validation")
    return (f"int8 candidates, each exported and its int8 ONNX scored (exact QDQ semantics): {scores('int8_onnx')}; {rule} "
            f"(PaddleSlim's programs in Paddle: {scores('paddle_fake_quant')}).")


def demo(files: Mapping[str, Json]) -> str:
    """Every artifact of the demo bundle, each measured by its own engine, the checks that gated the run and its stages."""
    summary, parity = files["demo/demo.json"], files["demo/parity.json"]
    seconds = summary["stage_seconds"]
    stages = ", ".join(f"{k} {seconds[k]:.0f} s" for k in _ordered(list(seconds), STAGES))
    total = summary["total_seconds"]
    head = (f"`make demo`'s stages: **{int(total // 60)} min {total % 60:.0f} s** ({stages}; the venv install before them "
            f"not counted); "
            f"{parity['threads']} threads, {parity['samples']:,} test images.\n\n")
    rows = []
    for key in _ordered(list(parity["engines"]), PARITY_ENGINES):
        e = parity["engines"][key]
        drop = f"{0.0 - e['top1_drop_points']:+.2f} points".replace("-0.00", "+0.00") if "top1_drop_points" in e else "-"
        size = e["bytes"] + (parity["artifacts"].get("paddle-fp32-params", {}).get("bytes", 0) if e["artifact"] == "paddle-fp32-program" else 0)
        rows.append([e["title"], _scores(e["scores"]), drop, _versus(e["vs_float"]) if "vs_float" in e else "reference",
                     _versus(e["vs_exact_int8"]) if "vs_exact_int8" in e else "-", _size(size) if e.get("bytes") else "-",
                     "yes" if e.get("gated", True) else "reported"])
    engines = _table([f"{parity['model']}", "top-1", "vs float", "outputs vs float Paddle", "vs exact int8", "size", "gated"], rows)
    checks = _table(["check (gates the exit code)", "measured", "limit", "result"],
                    [[name, f"{c['value']:.6g}", f"{'<=' if c['kind'] == 'max' else '>='} {c['limit']:g}", "PASS" if c["passed"] else "FAIL"]
                     for name, c in parity["checks"].items()])
    int8 = f"\n\n{_int8_candidates(parity['compress'])}" if parity.get("compress") else ""
    return f"{head}{engines}{int8}\n\n{checks}\n\n{_provenance(files)}"


def _goal_rows(goals: Json) -> List[List[str]]:
    return [[name, f"{g['value']:.3f}", f"{g['interval'][0]:.3f}-{g['interval'][1]:.3f}",
             f"{'<=' if g['kind'] == 'max' else '>='} {g['limit']:g}",
             f"{'met' if g['met'] else 'missed'} by {abs(g['margin']) * 100:.1f} %"
             + ("" if g["interval_clear_of_limit"] else " (interval spans the limit)")] for name, g in goals.items()]


def _cell(cells: Sequence[Json], engine: str, threads: int, batch: int) -> Json:
    found = [c for c in cells if c["engine"] == engine and c["threads"] == threads and c["batch"] == batch]
    return found[0] if found else {}


# how bench.json files written before bench recorded its ratio_rule measured each ratio goal
OLD_RATIO_RULE = ("the ratio of the medians of the calls of its two cells, its 95 % interval a bootstrap over calls (the runtime's "
                  "overhead: adjacent calls of one session, alternating)")


# how bench.json files written before bench recorded its share_rule measured the peak-share goals
OLD_SHARE_RULE = ("each measuring round's median call against the peak measured before and after the grid, the median of those "
                  "and its interval over them (a Paddle Lite cell: its measuring calls)")


def _ratio_rule(bench: Json) -> str:
    """The lines under a goals table: how its ratios and its shares of the peak were measured."""
    return f"Each ratio goal is {bench.get('ratio_rule', OLD_RATIO_RULE)}. Each share of the peak is {_share_rule(bench)}."


def _share_rule(bench: Json) -> str:
    """How a bench file measured its shares of the peak: as it says, or, if it predates saying, OLD_SHARE_RULE."""
    return bench.get("share_rule", OLD_SHARE_RULE)


def demo_bench(files: Mapping[str, Json]) -> str:
    """The demo's benchmark at the goal thread count, and its speed goals with their 95 % intervals (never gating)."""
    bench = files["demo/bench.json"]
    t, big = bench["goal_threads"], max(bench["batches"])
    rows = []
    for name in _ordered(list(bench["engines"]), BENCH_ENGINES):
        e = bench["engines"][name]
        one, many, cold = _cell(bench["cells"], name, t, 1), _cell(bench["cells"], name, t, big), e.get("cold") or {}
        rows.append([e["label"], _us(one["p50_us"]) if one else "-", _us(many["p50_us"]) if many else "-",
                     f"{many['throughput']:,.0f} /s" if many else "-",
                     f"{many['gflops']:.0f} ({many['peak_fraction'] * 100:.0f} %)" if many else "-",
                     f"{cold['load_s'] * 1e3:.0f} ms" if cold else "-", f"{cold['peak_rss_mb']:.0f} MB" if cold else "-"])
    table = _table([f"{bench['model']}, {t} threads", "batch-1 p50", f"batch-{big} p50", f"batch-{big} throughput",
                    f"GFLOP/s at {big} (share of the GEMM peak of its precision)", "load", "peak RSS"], rows)
    goals = _table(["speed goal (reported, never gating)", "measured", "95 % interval", "goal", "result"], _goal_rows(bench["goals"]))
    return f"{table}\n\n{goals}\n\n{_ratio_rule(bench)}\n\n{_provenance(files)}"


def zoo(files: Mapping[str, Json]) -> str:
    """Each zoo model's test and validation figure after its default training, against its target."""
    rows = []
    for r in files["zoo.json"]["rows"]:
        fig = (lambda v: _pct(v)) if r["metric"] == "top1" else (lambda v: f"MSE {v:.2f}")
        target = f">= {r['target'] * 100:.1f} %" if r["target"] is not None else (
            f"reported; least squares: {fig(r['least_squares_mse'])}" if "least_squares_mse" in r else "reported")
        rows.append([f"`{r['model']}`", r["dataset"], f"{r['epoch_kept']} of {r['epochs']}", fig(r["value"]), fig(r["val_value"]),
                     target, r["verdict"], f"{r['seconds']:.0f} s"])
    table = _table(["model", "dataset", "epoch kept (by validation)", "test", "validation", "target", "verdict", "train time"], rows)
    return f"{table}\n\n{_provenance(files)}"


def resnet_bench(files: Mapping[str, Json]) -> str:
    """The zoo ResNet's batch-1 and batch-64 medians per engine and thread count, and its speed goals."""
    bench = files["resnet-bench.json"]
    grid = [(t, b) for t in bench["threads"] for b in (min(bench["batches"]), max(bench["batches"]))]
    rows = [[e["label"], *[_us(c["p50_us"]) if (c := _cell(bench["cells"], name, t, b)) else "-" for t, b in grid]]
            for name, e in ((n, bench["engines"][n]) for n in _ordered(list(bench["engines"]), BENCH_ENGINES))]
    table = _table([f"{bench['model']} ({bench['flops_per_sample'] / 1e6:.1f} MFLOP a sample), p50",
                    *[f"{t} thread{'s' if t > 1 else ''}, batch {b}" for t, b in grid]], rows)
    goals = _table(["speed goal (reported, never gating)", "measured", "95 % interval", "goal", "result"], _goal_rows(bench["goals"]))
    return f"{table}\n\n{goals}\n\n{_ratio_rule(bench)}\n\n{_provenance(files)}"


def _engine(bench: Json, name: str, batch: int) -> str:
    """A bench engine's name; for the tuned runtime, with the configuration its tuning chose at the tuned batch nearest `batch`."""
    choices = (bench.get("tuned") or {}).get("choices") if name == "runtime_tuned" else None
    if not choices:
        return name
    nearest = min(choices, key=lambda b: abs(math.log(int(b)) - math.log(batch)))
    return f"{name} ({choices[nearest]})"


# how bench.json files written before bench recorded its fastest_rule picked the pair of the fastest-peer goals
OLD_FASTEST_RULE = ("picked on the same calls its ratio was measured on (where several peers run the same engine, the "
                    "fastest of them looks faster than each is)")


def peers_not_compared(files: Mapping[str, Json]) -> List[str]:
    """What the runs' `skipped` say of the peers: those that never ran (no cell timed), those that failed part-way through
    the grid (timed in some cells, then left out of the cells from where the key says), and those left out of a run by
    its options."""
    never: List[str] = []
    part_way: List[str] = []
    left_out: List[str] = []
    labels = _labels(files)
    for file, bench in files.items():
        timed = {cell["engine"] for cell in bench["cells"]}
        for name, why in bench["skipped"].items():
            said = f"{labels[file]}: {name} ({why})"
            if not why.startswith("not runnable"):
                left_out += [said] if is_peer(name) else []
            elif name.split(" ")[0] in timed:  # a key names where it failed: "X from batch 8", "X at 2 thread(s), batch 64"
                part_way.append(said)
            else:
                never.append(said)
    lines = [("Peers that could not run: ", never),
             ("Peers that ran, then failed at a batch size or thread count, so left out of the cells from there up: ", part_way),
             ("Peers left out of a run, so not among the peers compared there: ", left_out)]
    return [head + "; ".join(found) + "." for head, found in lines if found]


def _labels(files: Mapping[str, Json]) -> Dict[str, str]:
    """Each file's model name, with its bundle's folder after it where two files of a block are of one model (a bench
    names its bundle; a tuning, the tuning file inside it)."""
    def bundle(data: Json) -> str:
        return Path(data["bundle"]).name if "bundle" in data else Path(data["tuning_file"]).parent.parent.name
    models = [data["model"] for data in files.values()]
    return {name: f"{data['model']} (`{bundle(data)}`)" if models.count(data["model"]) > 1 else data["model"] for name, data in files.items()}


def speed_peers(files: Mapping[str, Json]) -> str:
    """Per model and batch (1 and the largest timed): the thin runtime's fastest cell against the fastest engine a user
    could pick instead, as a ratio with its 95 % interval (a goal, never gating; each file says how it measured it), and
    each one's share of this CPU's GEMM peak; then each run's measured peak."""
    rows, peaks, labels = [], [], _labels(files)
    for file, bench in files.items():
        t = bench["goal_threads"]
        for key, pair in bench["fastest"].items():
            batch = int(key[1:])
            ours, peer = _cell(bench["cells"], pair["runtime"], t, batch), _cell(bench["cells"], pair["peer"], t, batch)
            goal = bench["goals"][f"runtime_vs_fastest_peer_{'b1' if batch == 1 else 'largest_batch'}_ratio"]
            rows.append([labels[file], str(batch), f"{_engine(bench, pair['runtime'], batch)}: {_us(ours['p50_us'])} ({ours['peak_fraction'] * 100:.0f} % of peak)",
                         f"{pair['peer']}: {_us(peer['p50_us'])} ({peer['peak_fraction'] * 100:.0f} % of peak)"
                         + (f"; {pair['tuned_twin']}, the tuned configuration itself, not counted" if pair.get("tuned_twin") else ""),
                         _interval_text(goal['value'], *goal['interval'])
                         + (" (a Lite cell: calls, not rounds)" if pair.get("paired_by_round") is False else ""),
                         f"{'met' if goal['met'] else 'missed'} by {abs(goal['margin']) * 100:.0f} %"
                         + ("" if goal["interval_clear_of_limit"] else " (interval spans the limit)")])
        gops = bench["peak"]["gops"]
        peaks.append(f"{labels[file]} run: fp32 GEMM {gops['fp32'][str(t)]:.0f} GFLOP/s, int8 GEMM u8 x s8 "
                     f"{gops['int8_u8s8'][str(t)]:.0f} / u8 x u8 {gops['int8_u8u8'][str(t)]:.0f} GOP/s, copy "
                     f"{bench['peak']['memory_gbs']:.0f} GB/s ({t} threads)")
    table = _table(["model", "batch", "thin runtime's fastest: p50 of all its calls (share of the GEMM peak of its precision)",
                    "fastest peer: p50 of all its calls (share)", "runtime / peer (95 % interval), measured as said below",
                    "goal <= 1.00 (reported, never gating)"], rows)
    sizes = "/".join(sorted({"/".join(map(str, b["peak"]["gemm_sizes"])) for b in files.values()}))
    lines = [table, f"This CPU's GEMM peak in onnxruntime (the fastest of {sizes}^3; int8 engines are measured against the u8 x u8 product on a "
                     "CPU whose u8 x s8 kernels saturate, where the runtime runs the uint8-weight file) and copy bandwidth (numpy, "
                     f"one thread), measured in each run before and after its grid{_in_rounds(files)}: "
                     + "; ".join(peaks) + "."]
    lines += [*peers_not_compared(files),
              _said("Each row's pair (the runtime's fastest cell, the fastest peer) was",
                    {name: bench.get("fastest_rule", OLD_FASTEST_RULE) for name, bench in files.items()}),
              _said("Each ratio goal is", {name: bench.get("ratio_rule", OLD_RATIO_RULE) for name, bench in files.items()})]
    return "\n\n".join([*lines, _best_engine_table(files), _provenance(files)])


def _in_rounds(files: Mapping[str, Json]) -> str:
    """How the peaks of a block's runs were kept: the higher of before and after the grid, or, where the GEMM was also
    timed in the rounds of the share goals' cell (in every run, or in those named), the highest."""
    runs = [name for name, bench in files.items() if "gops_per_round" in bench["peak"]]
    if not runs:
        return ", the higher kept"
    return (" and in each round of the share goals' cell" + ("" if len(runs) == len(files) else f" (in {', '.join(f'`{r}`' for r in runs)})")
            + ", the highest kept")


# how bench.json files written before bench recorded best_engine picked and measured the int8-vs-fp32 pair
OLD_BEST_RULE = "the cells with the lowest median of all their calls, their ratio measured on the same calls"


def _best_pair(bench: Json) -> Dict[str, Json]:
    """The cells of the best-engine goals' pair at the largest batch: as bench.json names them, or, in files written
    before it did, the lowest median call of each precision (the rule those files were judged by)."""
    t = bench["goal_threads"]
    if "best_engine" in bench:
        pair = bench["best_engine"]
        return {p: _cell(bench["cells"], pair[p], t, pair["batch"]) for p in ("fp32", "int8") if p in pair}
    largest = max(r["batch"] for r in bench["cells"] if r["threads"] == t)
    pools = {p: [r for r in bench["cells"] if (r["threads"], r["batch"], r["precision"]) == (t, largest, p)] for p in ("fp32", "int8")}
    return {p: min(pool, key=lambda r: r["p50_us"]) for p, pool in pools.items() if pool}


def _best_engine_table(files: Mapping[str, Json]) -> str:
    """Per model at its largest batch: the fastest int8 engine over the fastest fp32 one, and each one's share of the
    GEMM peak of its precision (the speed issue's targets), with the CPU's int8 instructions: VNNI decides the limit."""
    rows, labels = [], _labels(files)
    for file, bench in files.items():
        best = _best_pair(bench)
        big = best["fp32"]["batch"]
        goals = [bench["goals"].get(name) or {"not": bench["skipped"].get(f"goal {name}", "not measured")}
                 for name in ("int8_vs_fp32_best_engine_largest_batch_speedup", "fp32_best_engine_largest_batch_peak_share",
                              "int8_best_engine_largest_batch_peak_share")]
        rows.append([labels[file], str(big), ", ".join(bench["host"]["cpu"]["int8_instructions"]),
                     *[f"{_engine(bench, best[p]['engine'], big)}: {_us(best[p]['p50_us'])}" for p in ("fp32", "int8")],
                     *[goal["not"] if "not" in goal else _goal_cell(goal) for goal in goals]])
    table = _table(["model", "batch", "CPU's int8 instructions", "fastest fp32 engine (picked as said below): p50 of all its calls",
                    "fastest int8 engine (picked so): p50 of all its calls",
                    "int8 / fp32 speed-up (95 % interval, goal)", "fp32 share of its GEMM peak", "int8 share of its GEMM peak"], rows)
    rule = {name: bench["fastest_rule"] if "best_engine" in bench else OLD_BEST_RULE for name, bench in files.items()}
    return (f"{table}\n\n" + _said("Each row's pair was", rule) + "\n\n"
            + _said("Each share of the peak is", {name: _share_rule(bench) for name, bench in files.items()}))


def _said(lead: str, rule: Mapping[str, str]) -> str:
    """`lead` and the rule every file followed, or, where they differ, a list of each file's."""
    if len(set(rule.values())) == 1:
        return f"{lead} {next(iter(rule.values()))}."
    return f"{lead}:\n" + "\n".join(f"- in `{name}`: {r};" for name, r in rule.items())


def _goal_cell(goal: Json) -> str:
    """A goal as one table cell: value, interval, its limit, met or missed (reported, never gating)."""
    return (f"{_interval_text(goal['value'], *goal['interval'])} {'<=' if goal['kind'] == 'max' else '>='} "
            f"{goal['limit']:g}: {'met' if goal['met'] else 'missed'}" + ("" if goal["interval_clear_of_limit"] else " (interval spans it)"))


def tune(files: Mapping[str, Json]) -> str:
    """Per tuned batch size and precision: what was chosen, the pick held against the untuned configuration on fresh
    rounds (fp32, int8: the fastest when picking; either: a precision's choice), and their ratio; then how many candidates passed parity, failed it, or could not run here."""
    rows, lines, labels = [], [], _labels(files)
    for file, t in files.items():
        for batch, per in t["confirmation"].items():
            for key in ("any", "fp32", "int8"):
                if key not in per:
                    continue
                e = per[key]
                ratio = e["untuned_over_pick"]
                rows.append([labels[file], batch, "either" if key == "any" else key, f"{e['chosen_what']}: {_us(e['p50_us'])}",
                             "the same" if e["pick"] == e["chosen"] else e["pick_what"],
                             f"{ratio['value']:.3f} [{ratio['interval'][0]:.3f}, {ratio['interval'][1]:.3f}], {ratio['pairs']} rounds" if ratio else "-",
                             "yes" if e["switched"] else "no"])
        passed = sum(1 for c in t["candidates"] if c.get("passed"))
        failed = [c["what"] for c in t["candidates"] if c.get("passed") is False]
        cannot = sorted({c["error"] for c in t["candidates"] if c["error"]})
        dropped = sum(1 for c in t["candidates"] if c.get("dropped_at_rung") is not None)
        lines.append(f"{labels[file]} on {t['board']} ({'emulated' if t['emulated'] else 'native'}; {t['board_cpu']}), {t['samples']:,} samples judged per evaluated "
                     f"candidate: {len(t['candidates'])} candidates"
                     + (f", {dropped} dropped by the halving in {len(t['rungs']) - 1} rung(s) of brief timings" if dropped else "")
                     + f", {passed} passed parity, {len(failed)} failed" + (f" ({'; '.join(failed)})" if failed else "")
                     + f", {sum(1 for c in t['candidates'] if c['error'])} could not run here" + (f" ({'; '.join(cannot)})" if cannot else "") + "."
                     + (" Timed on the first group of the data, each sample of shape " + ", ".join(f"{' x '.join(map(str, v))} (input `{k}`)" for k, v in t["timed_shape"].items())
                        + "." if "timed_shape" in t else ""))
    earlier = [f"`{name}`" for name, t in files.items() if "either_rule" not in t]
    if earlier:
        lines.append(f"In {', '.join(earlier)} (an earlier `tune`) the row \"either\" is the fastest candidate when picking, held "
                     "against the untuned configuration: it can be slower than that file's fp32 or int8 row, as its fresh rounds show.")
    table = _table(["model", "batch", "precision", "chosen: p50 on the fresh rounds",
                    "pick, if another (fp32, int8: the fastest when picking; either: a precision's choice that did not clear the untuned one)",
                    "untuned / pick, per-round medians (95 % interval), fresh rounds", "off the untuned rule"], rows)
    return "\n\n".join([table, *lines, _provenance(files)])


def _board_where(b: Json) -> str:
    """What ran the bundle on the board: the board's Python and engines (a real board's CPU too: an emulated one's is
    the qemu model), or the browser and onnxruntime-web."""
    info = b["board_info"]
    if "user_agent" in info:
        return (f"{b['board']}: {info['browser'].split(' built')[0]} headless, onnxruntime-web {info['versions']['onnxruntime-web']} "
                f"wasm, {info['threads']} threads, cross-origin isolated: {'yes' if info['cross_origin_isolated'] else 'no'}")
    where = f"qemu {b['qemu_cpu']}" if b["emulated"] else f"native, {info['cpu']['label']}"
    engine = info.get("engine") or f"onnxruntime {info['versions'].get('onnxruntime', '?')}"  # a backend that names itself
    return f"{b['board']}: {where}, Python {info['python']}, {engine}, numpy {info['versions'].get('numpy', '?')}"


def _board_latency(b: Json, batch: str) -> str:
    """p50 fp32 / int8 at a batch size, and p90 where the board timed enough calls (the browser's page), labelled with
    what the timing is worth (emulated, or this host's browser)."""
    timed = b.get("board_latency_batches_us") or {}
    if all(batch in timed.get(p, {}) for p in ("fp32", "int8")):
        found = " / ".join(_us(timed[p][batch]["p50"]) for p in ("fp32", "int8"))
        if all("p90" in timed[p][batch] for p in ("fp32", "int8")):
            found += " (p90 " + " / ".join(_us(timed[p][batch]["p90"]) for p in ("fp32", "int8")) + ")"
    elif batch == "1":
        found = " / ".join(_us(b["latency_us"][p]["board"]) for p in ("fp32", "int8"))
    else:
        return "not measured"
    where = "EMULATED" if b["emulated"] else "this host, in the browser" if "user_agent" in b["board_info"] else "native"
    return f"{found} ({where})"


def _paddlejs(b: Json, cell: Callable[[], str]) -> str:
    """A Paddle.js cell where the board ran the bundle's Paddle.js model; what else the column is, where not."""
    if PJS in b["artifacts"] and PJS in b["top1"]:
        return cell()
    if PJS in b["artifacts"]:
        return "no top-1 (not a labelled classifier)"
    return "no Paddle.js model in the bundle" if "user_agent" in b["board_info"] else "a browser's engine: not run"


def _device(engine: str) -> str:
    """The GPU an engine in the page ran on, as a latency cell says it: SwiftShader is a GPU drawn in software."""
    return "SwiftShader, in software" if "swiftshader" in engine.lower() else engine


def _paddlejs_latency(b: Json) -> str:
    """Paddle.js's batch-1 p50 in the page, with the WebGL2 it ran on."""
    engine = b["engines"][PJS]
    return f"{_us(b['latency_us'][PJS]['board'])} (this host, in the browser, WebGL2: {_device(engine)})"


def _page_preprocessing(b: Json) -> str:
    """How many images the page's JavaScript preprocessed into the runtime's very tensors, of how many."""
    found = b["page_preprocessing"]
    return f"{found['identical']:,} / {found['images']:,} ({found['max_abs_diff']:.2g})"


def _gpu(b: Json, ep: str, part: Callable[[str, str], str], precisions: Sequence[str] = ("fp32", "int8")) -> str:
    """A cell of onnxruntime-web's GPU backend `ep`: `part(key, precision)` for each of `precisions` the bundle has, where
    the browser ran it ("{ep}-{precision}"), joined with " / "; why not, where it ran none of them."""
    if "user_agent" not in b["board_info"]:
        return "a browser's engine: not run"
    keys = {p: f"{ep}-{p}" for p in precisions if p in b["artifacts"]}
    if any(key in b["artifacts"] for key in keys.values()):
        return " / ".join(part(key, p) if key in b["artifacts"] else f"{p} not run" for p, key in keys.items())
    if "gpu_asked" not in b:
        return "not run (measured before the board ran GPU backends)"
    if ep not in b["gpu_asked"]:
        return f"not asked (`--gpu {','.join(b['gpu_asked']) or 'none'}`)"
    why = [f"{key}: {said}" for key, said in b["not_run"].items() if key == ep or key.startswith(f"{ep}-")]
    return "not run: " + "; ".join(why) if why else "not run"


def _gpu_top1(b: Json, key: str) -> str:
    """The board's top-1 of a GPU backend's run, where the bundle is a labelled classifier."""
    return _pct(b["top1"][key]["board"]) if key in b.get("top1", {}) else "no top-1"


def _gpu_nodes(b: Json, key: str, precision: str) -> str:
    """How many of a file's nodes ran on the GPU, and the op types that ran on its CPU provider."""
    placed = (b.get("placements") or {}).get(key)
    if not placed:
        return f"{precision}: placement not logged"
    gpu, cpu, ops = node_split(placed)
    return f"{precision}: {gpu} of {gpu + cpu}" + (f" (CPU: {', '.join(ops)})" if ops else "")


def _gpu_latency(b: Json, ep: str) -> str:
    """A GPU backend's batch-1 p50 per precision in the page, with the device it ran on (SwiftShader: a GPU in software)."""
    found = _gpu(b, ep, lambda key, _: _us(b["latency_us"][key]["board"]))
    engine = next((e for key, e in b["engines"].items() if key.startswith(f"{ep}-")), "")
    return f"{found} (this host, in the browser, {_device(engine)})" if engine else found


def _passed(b: Json) -> str:
    return f"{sum(c['passed'] for c in b['checks'].values())} of {len(b['checks'])} passed"


def board_parity(files: Mapping[str, Json]) -> str:
    """Each board (emulated, or the browser) against this host: fp32 outputs, int8 against its exact semantics, top-1,
    latency labelled with what it is worth."""
    boards = list(files.values())

    def row(title: str, cell: Callable[[Json], str]) -> List[str]:
        return [title, *[cell(b) for b in boards]]

    v = lambda b, k: b["values"].get(k)  # noqa: E731
    rows = [
        row("board", _board_where),
        row("test images", lambda b: f"{b['samples']:,}"),
        row("fp32 top-1, board / x86-64", lambda b: f"{_pct(b['top1']['fp32']['board'])} / {_pct(b['top1']['fp32']['x86_64'])}"),
        row("fp32 argmax agreement with x86-64", lambda b: _pct(v(b, "fp32_argmax_agreement"))),
        row("fp32 max abs diff (allclose ratio)", lambda b: f"{v(b, 'fp32_max_abs_diff'):.2g} ({v(b, 'fp32_allclose_ratio'):.2f})"),
        row("int8 file the board ran", lambda b: f"`{b['artifacts']['int8']['board']}`"),
        row("int8 top-1, board / exact", lambda b: f"{_pct(b['top1']['int8']['board'])} / {_pct(b['top1']['int8']['exact'])}"),
        row("int8 argmax agreement with exact (limit 99.9 %)", lambda b: _pct(v(b, "int8_vs_exact_argmax_agreement"))),
        row("int8 max abs diff to exact", lambda b: f"{v(b, 'int8_vs_exact_max_abs_diff'):.2g}"),
        row(f"int8 kernels alone on the board: largest step from exact (limit {KERNEL_STEP_LIMIT})",
            lambda b: (f"{b['kernels']['max_steps']} ({b['kernels']['checked']} op{'' if b['kernels']['checked'] == 1 else 's'})"
                       if (b.get("kernels") or {}).get("checked") else "not measured")),
        row("batch-1 p50 fp32 / int8 (p90)", lambda b: _board_latency(b, "1")),
        row("batch-64 p50 fp32 / int8 (p90)", lambda b: _board_latency(b, "64")),
        row("Paddle.js fp32 top-1, board / Paddle Inference", lambda b: _paddlejs(b, lambda: f"{_pct(b['top1'][PJS]['board'])} / "
                                                                                     f"{_pct(b['top1'][PJS]['x86_64'])}")),
        row("Paddle.js argmax agreement with Paddle Inference", lambda b: _paddlejs(b, lambda: _pct(v(b, "paddlejs_fp32_argmax_agreement")))),
        row("Paddle.js max abs diff (allclose ratio)", lambda b: _paddlejs(b, lambda: f"{v(b, 'paddlejs_fp32_max_abs_diff'):.2g} "
                                                                                f"({v(b, 'paddlejs_fp32_allclose_ratio'):.2f})")),
        row("Paddle.js batch-1 p50", lambda b: _paddlejs(b, lambda: _paddlejs_latency(b))),
        row("WebGPU (onnxruntime-web) top-1 fp32 / int8", lambda b: _gpu(b, "webgpu", lambda key, _: _gpu_top1(b, key))),
        row("WebGPU answers: fp32 as x86-64 / int8 as exact", lambda b: _gpu(b, "webgpu", lambda key, p: _pct(
            v(b, "webgpu_fp32_argmax_agreement" if p == "fp32" else "webgpu_int8_vs_exact_argmax_agreement")))),
        row("WebGPU fp32 SQNR vs x86-64, max abs diff", lambda b: _gpu(b, "webgpu", lambda key, _: f"{v(b, 'webgpu_fp32_sqnr_db'):.1f} dB, "
                                                                                              f"{v(b, 'webgpu_fp32_max_abs_diff'):.2g}", ("fp32",))),
        row("WebGPU nodes on the GPU", lambda b: _gpu(b, "webgpu", lambda key, p: _gpu_nodes(b, key, p))),
        row("WebGPU batch-1 p50 fp32 / int8", lambda b: _gpu_latency(b, "webgpu")),
        row("WebGL (onnxruntime-web) top-1 fp32 / int8", lambda b: _gpu(b, "webgl", lambda key, _: _gpu_top1(b, key))),
        row("paddle importable on the board", lambda b: "yes" if b["board_info"]["paddle_importable"] else "no"),
        row("checks", _passed),
    ]
    table = _table(["board vs this host", *[b["board"] for b in boards]], rows)
    return f"{table}\n\n{_provenance(files)}"


def _ocr_columns(where: str) -> List[str]:
    """The columns every board's table of the PaddleOCR bundles has, `where` naming the board."""
    return ["model", "images", "metric", f"fp32: {where} / x86-64", f"int8: {where} / exact", "fp32 SQNR vs x86-64",
            "int8 answers as exact", "int8 kernels: largest step (ops)", "batch-1 p50 fp32 / int8 (p90)"]


def _ocr_cells(b: Json) -> List[str]:
    """A PaddleOCR bundle's board parity in `_ocr_columns`: the task metric on the board and on this host, int8 against
    its exact semantics, fp32 SQNR against this host, each int8 kernel alone on the board, the board's latency."""
    metric, name = OCR_METRICS[b["task"]]
    s, v = b["scores"], b["values"]
    answers = {k: x for k, x in v.items() if k.startswith("int8_vs_exact_") and k.endswith(ANSWER_KEYS)}
    return [b["model"], f"{b['samples']:,}", name, f"{_pct(s['fp32']['board'][metric])} / {_pct(s['fp32']['x86_64'][metric])}",
            f"{_pct(s['int8']['board'][metric])} / {_pct(s['int8']['exact'][metric])}", f"{v['fp32_sqnr_db']:.1f} dB",
            ", ".join(_pct(x) for x in answers.values()), f"{b['kernels']['max_steps']} ({b['kernels']['checked']} ops)",
            _board_latency(b, "1")]


def board_ocr(files: Mapping[str, Json]) -> str:
    """The PaddleOCR bundles on an emulated board, against this host: the task metric, int8 against its exact semantics,
    each int8 kernel alone on the board, and which int8 file the board's runtime chose."""
    rows = [[f"{b['model']} (`ppocr-{Path(rel).stem.removeprefix('board-parity-')}`)", *_ocr_cells(b)[1:],
             f"`{b['artifacts']['int8']['board']}`", _passed(b)] for rel, b in files.items()]
    boards = sorted({_board_where(b) for b in files.values()})
    table = _table(["model (bundle)", *_ocr_columns("board")[1:], "int8 file the board ran", "checks"], rows)
    return f"{table}\n\nOn {'; '.join(boards)}.\n\n{_provenance(files)}"


def board_lite(files: Mapping[str, Json]) -> str:
    """The PaddleOCR bundles' Paddle Lite arm .nb files on an emulated board: fp32 against this host's fp32 ONNX (the
    task metric on both, SQNR, largest difference), int8 (Lite's int8 kernels) against the same (the metric's change,
    the same answers) and, reported, against the exact int8 ONNX; the board's batch-1 latency. "-" where the bundle has
    no int8 .nb."""
    rows = []
    for rel, b in files.items():
        metric, name = OCR_METRICS[b["task"]]
        s, v = b["scores"], b["values"]
        answers = {p: ", ".join(_pct(v[p + a]) for a in ANSWER_KEYS if p + a in v) or "-" for p in ("fp32_", "int8_", "int8_vs_exact_")}
        int8 = "int8" in s
        change = f"{_pct(s['int8']['board'][metric])} ({-v[f'int8_{metric}_drop_points']:+.2f} points)".replace("-0.00", "+0.00") if int8 else "-"
        rows.append([f"{b['model']} (`ppocr-{Path(rel).stem.removeprefix('board-parity-').removesuffix('-paddlelite')}`)",
                     f"{b['samples']:,}", name, f"{_pct(s['fp32']['board'][metric])} / {_pct(s['fp32']['x86_64'][metric])}",
                     f"{v['fp32_sqnr_db']:.1f} dB, {v['fp32_max_abs_diff']:.2g}", answers["fp32_"], change, answers["int8_"],
                     _pct(s["int8"]["exact"][metric]) if int8 else "-", answers["int8_vs_exact_"],
                     " / ".join(_us(b["latency_us"][p]["board"]) for p in ("fp32", "int8") if p in b["latency_us"])
                     + f" (EMULATED, {b['threads']} threads)", _passed(b)])
    boards = sorted({_board_where(b) for b in files.values()})
    table = _table(["model (bundle)", "images", "metric", "fp32 .nb on the board / ONNX fp32 on x86-64",
                    "fp32 SQNR vs x86-64, max abs diff", "fp32 answers as x86-64", "int8 .nb on the board (points vs ONNX fp32 on x86-64)",
                    "int8 answers as ONNX fp32 on x86-64", "exact int8 ONNX (unfused) on x86-64", "int8 answers as exact int8 (reported)",
                    "batch-1 p50 fp32 / int8 on the board", "checks"], rows)
    return (f"{table}\n\nAnswers: the class; the text; box F1 at IoU 0.5 (gated for int8 only for the classifier). "
            f"On {'; '.join(boards)}.\n\n{_provenance(files)}")


def browser_ocr(files: Mapping[str, Json]) -> str:
    """The PaddleOCR bundles in the browser (`_ocr_cells`), with onnxruntime-web's WebGPU backend where it ran and
    Paddle.js where the bundle has its model; below, why WebGL did not run."""
    rows, webgl = [], []
    for b in files.values():
        metric, name = OCR_METRICS[b["task"]]
        s, v = b["scores"], b["values"]
        rows.append([*_ocr_cells(b),
                     _gpu(b, "webgpu", lambda key, _: _pct(s[key]["board"][metric])) + (
                         f", {v['webgpu_fp32_sqnr_db']:.1f} dB, {_gpu_latency(b, 'webgpu')}" if "webgpu_fp32_sqnr_db" in v else ""),
                     (f"{_pct(s[PJS]['board'][metric])} / {_pct(s[PJS]['x86_64'][metric])}, {v['paddlejs_fp32_sqnr_db']:.1f} dB, "
                      f"{_paddlejs_latency(b)}") if PJS in s else "no Paddle.js model in the bundle",
                     _page_preprocessing(b), _passed(b)])
        if "webgl" in b.get("gpu_asked", ()):
            webgl.append(f"{b['model']}: {_gpu(b, 'webgl', lambda key, _: _pct(s[key]['board'][metric]) + ' ' + name)}")
    table = _table([*_ocr_columns("browser"), "WebGPU fp32 / int8, fp32 SQNR vs x86-64, batch-1 p50 fp32 / int8",
                    "Paddle.js fp32: browser / Paddle Inference, SQNR, batch-1 p50",
                    "the page's preprocessing: identical to the runtime's / images (largest difference)", "checks"], rows)
    said = "".join(f"\n\nonnxruntime-web's WebGL backend: {line}." for line in webgl)
    return f"{table}{said}\n\n{_provenance(files)}"


def browser_zoo(files: Mapping[str, Json]) -> str:
    """Paddle.js on each image model of the zoo in the browser, against Paddle Inference on the float program it was
    converted from, beside onnxruntime-web's wasm on the bundle's fp32 ONNX against this host's runtime."""
    rows = []
    for b in files.values():
        v, top1 = b["values"], b["top1"]
        rows.append([b["model"], f"{b['samples']:,}", f"{_pct(top1[PJS]['board'])} / {_pct(top1[PJS]['x86_64'])}",
                     _pct(v["paddlejs_fp32_argmax_agreement"]), f"{v['paddlejs_fp32_sqnr_db']:.1f} dB",
                     f"{v['paddlejs_fp32_max_abs_diff']:.2g} ({v['paddlejs_fp32_allclose_ratio']:.2f})", _paddlejs_latency(b),
                     f"{_pct(top1['fp32']['board'])} / {_pct(top1['fp32']['x86_64'])}, {v['fp32_sqnr_db']:.1f} dB, allclose "
                     f"{v['fp32_allclose_ratio']:.2f}", _page_preprocessing(b),
                     _passed(b)])
    table = _table(["model", "test images", "Paddle.js top-1: browser / Paddle Inference", "Paddle.js argmax agreement",
                    "Paddle.js SQNR", "Paddle.js max abs diff (allclose ratio)", "Paddle.js batch-1 p50",
                    "wasm fp32 top-1: browser / x86-64, SQNR, allclose ratio",
                    "the page's preprocessing of the first test digits as PNGs: identical / images (largest difference)", "checks"], rows)
    return f"{table}\n\n{_provenance(files)}"


def _ocr_model(parity: Json) -> str:
    """The model's name, and how its int8 was made where not the default way: accuracy control, export's folds."""
    quant = parity.get("quantization") or {}
    folded = any((quant.get("onnx_rewrites") or {}).get(name) for name in FOLD_REWRITES)
    return (parity["model"] + (", accuracy-controlled int8" if quant.get("accuracy_control") else "")
            + (", int8 ONNX with --fold-quantizers" if folded else ""))


def _layout_ratios(files: Mapping[str, Json]) -> Dict[tuple, Dict[str, str]]:
    """Per (model, engine, batch), int8's time over fp32's with its interval from each bench file, under "fold" for a
    --fold-quantizers bundle's and "default" for the others'."""
    ratios: Dict[tuple, Dict[str, str]] = {}
    for name, bench in files.items():
        for engine, by_batch in (bench.get("int8_time_vs_fp32") or {}).items() if "bench-" in name else ():
            for batch, (value, low, high) in by_batch.items():
                layout = "fold" if "-fold" in name else "default"
                ratios.setdefault((bench["model"], engine, int(batch)), {})[layout] = _interval_text(value, low, high)
    return ratios


def folds(files: Mapping[str, Json]) -> str:
    """The folded bundles' parity (the OCR table), then per model, engine and batch int8's time over fp32's in the
    default layout's bundle and in the folded one, each from its own bench run (a report, never gating)."""
    parity = {name: data for name, data in files.items() if "parity-" in name}
    ratios = _layout_ratios(files)
    rows = [[model, engine, str(batch), cells.get("default", "-"), cells.get("fold", "-")]
            for (model, engine, batch), cells in sorted(ratios.items())]
    table = _table(["model", "engine", "batch", "int8 time / fp32 time, default layout (95 % interval)",
                    "the same, --fold-quantizers (below 1: int8 faster)"], rows)
    missing = [name for name, bench in files.items() if "bench-" in name and "int8_time_vs_fp32" not in bench]
    note = f"\n\n{', '.join(f'`{m}`' for m in missing)} predate the per-engine ratio (bench schema 6 without int8_time_vs_fp32)." if missing else ""
    return f"{ocr(parity)}\n\n{table}{note}\n\n{_provenance({k: v for k, v in files.items() if k not in parity})}"


def more_lines(files: Mapping[str, Json]) -> str:
    """Accuracy control on more validation and calibration lines, once per rule: each kept file's trials with their
    drops' intervals, the kept files' parity on more test lines, and a row per bench run of their bundles: its thread
    count, int8's time over fp32's per engine and batch, and its core probes (a report, never gating)."""
    parities = {name: data for name, data in files.items() if "parity-" in name}
    parts = []
    for name, parity in parities.items():
        control = parity["quantization"]["accuracy_control"]
        sure = "within" if control["within_limit_across_interval"] else "not within"
        limit = control["max_drop_points"]
        parts.append(f"`{_stem(name)[len('parity-'):]}`: a limit of {limit:g} point{'' if limit == 1 else 's'} held to "
                     f"{control.get('limit_held_to', 'the measured drop')}, on {control['validation_samples']} validation "
                     f"lines; the kept file is {sure} the limit across its interval.\n\n"
                     + _trials(control, OCR_METRICS[parity["task"]][1]))
    benches = {k: v for k, v in files.items() if "bench-" in k}
    return "\n\n".join([*parts, ocr(parities), _runs_table(benches), _provenance(benches)])


def _stem(name: str) -> str:
    """A figures file's name without its folder and extension: "bench-rec-ac256"."""
    return Path(name).stem


def _runs_table(benches: Mapping[str, Json]) -> str:
    """One row per bench run, in the order they ran: its bundle, thread count and the thin runtime's onnxruntime settings
    (bench --settings, from schema 10), int8's time over fp32's per engine and batch, and what its core probes read
    (runs before bench schema 7 were not probed)."""
    runs = sorted(benches.values(), key=lambda b: b["provenance"]["date"])
    pairs = sorted({(engine, int(batch)) for b in runs for engine, by in (b.get("int8_time_vs_fp32") or {}).items() for batch in by})

    def ratio(bench: Json, engine: str, batch: int) -> str:
        found = (bench.get("int8_time_vs_fp32") or {}).get(engine, {}).get(str(batch))
        return "-" if found is None else _interval_text(*found)

    def threads(bench: Json) -> str:
        settings = bench.get("runtime_settings") or {}
        return str(bench["goal_threads"]) + "".join(f", {k}={v}" for k, v in settings.items())

    return _table(["bundle", "threads, the thin runtime's onnxruntime settings", "run ended (UTC)", *(f"int8 / fp32 time, {e}, batch {b} (95 % interval)" for e, b in pairs),
                   "cores side by side: each probe's time over one alone (probes sharing a core)"],
                  [[Path(b["bundle"]).name, threads(b), b["provenance"]["date"][:16].replace("T", " "),
                    *(ratio(b, e, n) for e, n in pairs), _cores(b)] for b in runs])


def _cores(bench: Json) -> str:
    """What a bench run's core probes read (boards/bench/cores.py), just before and after its grid."""
    cores = bench.get("cores")
    if bench["goal_threads"] == 1:
        return "one thread: nothing to probe"
    if cores is None:
        return "not probed (bench schema before 7)"
    ratios = cores["side_by_side"]
    read = f"{', '.join(f'{r:.2f}' for r in ratios)} ({cores['shared']} of {len(ratios)})" if ratios else "not probed"
    failed = cores.get("error", "").splitlines()
    return read + (f"; failed: {failed[0]}".replace("|", "\\|") if failed else "")


def _vs_float(engine: Json, metric: str) -> str:
    """Points an engine gains over float (negative: lost), with the 95 % interval where parity measured one."""
    interval = engine.get(f"{metric}_drop_interval")
    around = f" [{-interval[1]:+.2f}, {-interval[0]:+.2f}]" if interval else ""
    return f"{-engine[f'{metric}_drop_points']:+.2f} points{around}".replace("-0.00", "+0.00")


def ocr(files: Mapping[str, Json]) -> str:
    """The PaddleOCR models on rendered data: each artifact's task metric, its drop against float, and how its outputs
    and answers compare with the float model's (int8: also with the int8 model's exact semantics)."""
    rows = []
    for parity in files.values():
        metric, name = OCR_METRICS[parity["task"]]
        quant = parity.get("quantization") or {}
        model = _ocr_model(parity)
        recipe = f"PTQ {quant.get('algo', '?')}, {quant.get('batch_nums', '?')} x {quant.get('batch_size', '?')} images" if quant else "-"
        if quant.get("accuracy_control"):
            control = quant["accuracy_control"]
            tried = list(dict.fromkeys(t.get("algo", quant.get("algo")) for t in control["trials"]))
            recipe += (f"; accuracy control (max drop {control['max_drop_points']:g} points on validation, {len(control['trials'])} "
                       f"trials) chose {quant.get('algo')} of {', '.join(tried)} and kept {len(quant['keep_float'])} ops in float")
            kept = next((t for t in control["trials"] if t.get("algo") == control.get("calibration")
                         and list(t["keep_float"]) == list(quant["keep_float"])), None)
            if kept is not None and kept.get("drop_interval"):
                recipe += f", validation drop {_drop(kept)} points"
        for key in _ordered(list(parity["engines"]), PARITY_ENGINES):
            e = parity["engines"][key]
            drop = e.get(f"{metric}_drop_points")
            answers = next((f"{label} {_pct(e['vs_float'][k])}" for k, label in (("argmax_agreement", "same class"),
                            ("text_agreement", "same text"), ("box_f1_vs_float", "box F1")) if k in e.get("vs_float", {})), "-")
            sqnr, diff = (e.get("vs_float", {}).get(k) for k in ("sqnr_db", "max_abs_diff"))
            rows.append([f"{model} ({parity['samples']:,})", e["title"], f"{name} {_pct(e['scores'][metric])}",
                         _vs_float(e, metric) if drop is not None else "reference",
                         answers, f"{sqnr:.1f} dB" if sqnr is not None else ("exact" if "vs_float" in e else "-"),
                         f"{diff:.1e}" if diff is not None else "-", recipe if e["precision"] == "int8" else "-"])
    checks = [f"{_ocr_model(p)}: "
              f"{sum(c['passed'] for c in p['checks'].values())} of {len(p['checks'])} checks passed"
              + "".join(f"; **{n} {c['value']:.4g} (limit {c['limit']:g}) FAILED**" for n, c in p["checks"].items() if not c["passed"])
              for p in files.values()]
    intervals = any(k.endswith("_drop_interval") for p in files.values() for e in p["engines"].values() for k in e)
    table = _table(["model (samples)", "engine", "task metric", "vs float [95 % interval]" if intervals else "vs float",
                    "answers vs float", "SQNR vs float",
                    "max abs diff vs float", "int8 recipe"], rows)
    return f"{table}\n\n" + "\n".join(f"- {c}" for c in checks) + f"\n\n{_provenance(files)}"


def _trials(control: Json, label: str) -> str:
    """An accuracy control's trials in order: calibration, ops in float, validation score and drop, time against fp32."""
    rows = [[str(i), t["algo"], str(len(t["keep_float"])), _pct(t["score"]), _drop(t),
             ratio_text(t["time_vs_fp32"]) if t.get("time_vs_fp32") else "not timed", f"{t['seconds']:.0f} s"]
            for i, t in enumerate(control["trials"], 1)]
    intervals = any(t.get("drop_interval") for t in control["trials"])
    return _table(["trial", "calibration", "ops in float", f"{label} on validation", f"drop (points{'; 95 % interval' if intervals else ''})",
                   "int8 time vs fp32 (95 % interval)", "took"], rows)


def _drop(trial: Json) -> str:
    """An accuracy-control trial's drop in points, with its paired bootstrap interval where the card has one."""
    interval = trial.get("drop_interval")
    return f"{trial['drop_points']:.2f}" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def accuracy_control(files: Mapping[str, Json]) -> str:
    """The debugger on the recogniser's plain int8 file (its time), then accuracy control held to one calibration, so that
    it keeps ops in float: every trial's validation score with and without them, the shipped file's test scores, and
    the compute ops its int8 ONNX runs in float, as the debugger reads them from the file."""
    debug, parity, shipped = (files[f"ocr/avx2/{name}.json"] for name in ("quant-debug-rec", "parity-rec-float", "quant-debug-rec-float"))
    metric, label = OCR_METRICS[parity["task"]]
    quant = parity["quantization"]
    control = quant["accuracy_control"]
    trials = _trials(control, label)
    ops = [r for r in debug["rows"] if r["kind"] == "op"]
    tested = [f"{parity['engines'][e]['title']}: {_pct(parity['engines'][e]['scores'][metric])} "
              f"(drop {parity['engines'][e][f'{metric}_drop_points']:.2f} points)" for e in ("onnx_int8_exact", "onnx_int8")]
    passed = sum(c["passed"] for c in parity["checks"].values())
    shipped_ops = [r for r in shipped["rows"] if r["kind"] == "op"]
    kinds = Counter(r["precision"] for r in shipped_ops)
    kept_list = quant["keep_float"]
    kept_int8 = [r["weight"] for r in shipped_ops if r["weight"] in kept_list and r["precision"] == "int8"]
    before = next((t for t in control["trials"] if len(t["keep_float"]) == len(kept_list) - 1), None)
    last = (f"- the op whose addition met the limit: {kept_list[-1]}, ranked {len(kept_list)} of {len(control['ranked'])} by the "
            f"debugger; the {len(kept_list) - 1} ranked before it in float, without it, dropped {before['drop_points']:.2f} "
            "points" if before and kept_list else "- no trial kept one op fewer than the chosen one")
    latency, fp32_bytes = control["latency"], parity["engines"]["onnx_fp32"]["bytes"]
    ratio = latency["vs_fp32"]
    shipped_line = (f"- the chosen int8 file: {_size(parity['engines']['onnx_int8']['bytes'])} against fp32's {_size(fp32_bytes)}; "
                    f"{latency['artifact']} takes {ratio_text((ratio['value'], *ratio['interval']))} "
                    f"fp32's time in {latency['engine']} on {latency['cpu']}, {latency['threads']} threads, on "
                    + ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in latency["input_shape"].items()) + " (a report)")
    return "\n".join([
        f"{parity['model']}, `quant-debug` of the tour's int8 bundle (not this run's; its command is under the block) on "
        f"{debug['data']} ({len(ops)} compute ops and "
        f"{len(debug['rows']) - len(ops)} activation quantizers; each op's gain on the first {debug['gain_samples']}; "
        f"PaddleSlim's program in Paddle too): {debug['seconds']:.0f} s (the aim: under 120 s).", "",
        f"`compress --algo {quant['algo']} --calibrations '' --max-drop {control['max_drop_points']:g}`: {control['metric']} on "
        f"{control['validation']} (float {_pct(control['float_score'])}), {len(control['ranked'])} ops ranked by "
        f"{control['ranked_by']}; speed rule {control['speed_rule']}:", "", trials, "",
        f"- {len(control['trials'])} trials took {sum(t['seconds'] for t in control['trials']):.0f} s (PaddleSlim, export and "
        f"scoring; not counted: the debugger's ranking run and the timings); times on {latency['cpu']}", last, shipped_line,
        f"- kept in float ({len(kept_list)}): {', '.join(kept_list) or 'none'}",
        f"- the shipped int8 ONNX, as `quant-debug` reads it from the file: {len(shipped_ops)} compute ops, "
        + ", ".join(f"{n} {kind.replace(', ', ' with ')}" for kind, n in sorted(kinds.items())) + f"; kept ops that compute in int8: "
        f"{', '.join(kept_int8) or 'none'}",
        f"- on {parity['data']}: " + "; ".join(tested) + f"; {passed} of {len(parity['checks'])} checks passed",
        "", _provenance(files)])


def export_loss(files: Mapping[str, Json]) -> str:
    """The debugger's comparison of each int8 ONNX with PaddleSlim's program, as its terminal summary says it."""
    said = [f"- {debug['model']}, `quant-debug` of the tour's int8 bundle with `--int8-model` on {debug['data']} "
            f"({debug['seconds']:.0f} s): {len(debug['lost_in_export'])} compute ops' outputs are more than "
            f"{debug['export_loss_db']:g} dB further from float in the int8 ONNX than in PaddleSlim's program"
            + (f"; on the float model's own inputs, {len(debug['lost_in_export_locally'])} ops add that much more error in the "
               "int8 ONNX than in the program" if "lost_in_export_locally" in debug else "")
            + f"; {export_loss_text(debug)}" + (f"; {export_steps_text(debug['export_steps'])}" if debug.get("export_steps") else "")
            for debug in files.values()]
    return "\n".join(said) + f"\n\n{_provenance(files)}"


def peer_nncf(files: Mapping[str, Json]) -> str:
    """NNCF's accuracy control beside paddle-edge's on the same float model and images, as `paddle-edge peer` prints it."""
    from ..peers.side_by_side import PeerReport

    return "\n\n".join([*(PeerReport(data).render() for data in files.values()), _provenance(files)])


def page(files: Mapping[str, Json]) -> str:
    """The web page's screenshot that `make test` keeps, and what the page answered in it."""
    said = files["browser/page.json"]
    answers = "; ".join(f"{p} answered {said['answers'][p]} ({said['latency'][p]})" for p in ("fp32", "int8") if p in said["answers"])
    return ("![The web page: a 7 drawn on the pad, fp32 and int8 answering side by side](boards/report/figures/browser/page.png)\n\n"
            "<sub>The screenshot `make test` keeps in `build/test/page.png` (`tests/test_browser.py::test_the_page_a_person_uses`: "
            f"the test suite's LeNet exported with `--target web`, a 7 drawn on the pad with pointer events): {answers}; one call "
            f"each in headless Chromium on the CPU below, a browser on that CPU, not a device.</sub>\n\n{_provenance(files)}")


def robustness(files: Mapping[str, Json]) -> str:
    """The closing line of the test suite's robustness tests, as the run printed it."""
    result = files["robustness.json"]
    return f"```\n{result['line']}\n```\n\n{_provenance(files)}"


GENERATORS: Dict[str, Callable[[Mapping[str, Json]], str]] = {
    "demo": demo, "demo-bench": demo_bench, "zoo": zoo, "resnet-bench": resnet_bench, "board-parity": board_parity, "board-ocr": board_ocr, "board-lite": board_lite,
    "browser-ocr": browser_ocr,
    "browser-zoo": browser_zoo,
    "robustness": robustness, "page": page, "ocr": ocr, "ocr-vnni": ocr, "peer-nncf": peer_nncf, "folds": folds, "more-lines": more_lines, "accuracy-control": accuracy_control, "export-loss": export_loss, "speed-peers": speed_peers, "tune": tune,
    "speed-peers-avx2": speed_peers, "tune-avx2": tune, "ocr-amx": ocr, "tune-amx": tune, "speed-peers-amx": speed_peers}


def load_sources(name: str, figures: Path = FIGURES) -> Dict[str, Json]:
    """The JSON files block `name` is written from."""
    found = {}
    for rel, command in SOURCES[name].items():
        path = figures / rel
        if not path.is_file():
            raise PaddleEdgeError(f"README block {name!r} needs {path}, which is missing",
                                  f"run `{command}` and copy its JSON to {path}")
        found[rel] = json.loads(path.read_text())
    return found


def render_block(name: str, figures: Path = FIGURES) -> str:
    """The text of block `name` as the generator writes it from the committed JSON."""
    if name not in GENERATORS:
        raise PaddleEdgeError(f"README has a figures block {name!r} that no generator writes", f"use one of {sorted(GENERATORS)}")
    return GENERATORS[name](load_sources(name, figures)).rstrip("\n") + "\n"


def regenerate(text: str, figures: Path = FIGURES) -> str:
    """`text` with every figures block rewritten by its generator."""
    return BLOCK.sub(lambda m: f"<!-- figures:{m['name']} -->\n{render_block(m['name'], figures)}<!-- /figures:{m['name']} -->", text)


def stale_blocks(text: str, figures: Path = FIGURES) -> List[str]:
    """Names of the blocks whose text differs from what their generator writes now."""
    return [m["name"] for m in BLOCK.finditer(text) if m["body"] != render_block(m["name"], figures)]


def outside_blocks(text: str) -> str:
    """The README with its generated blocks removed: the prose that must hold no measured figure."""
    return BLOCK.sub("", text)
