"""The HTML page: tables and charts from the report's data, every image embedded, so it opens from disk with no server."""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ...export.evaluation import IDENTICAL_SQNR_DB
from ...runtime.files import atomic_file
from ..quant_debug.report import export_loss_text, export_steps_text
from . import charts, layer_charts
from .run_dir import DATA, HTML, RunDir, read_run_dir
from .summary import summarize

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37}.fail{color:#c62828;font-weight:600}
figure{margin:1em 0 2em}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555}code{background:#f5f5f5}"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _flops(flops: int) -> str:
    """2,304 FLOP, 3.79 MFLOP, 1.20 GFLOP."""
    for unit, size in (("GFLOP", 1e9), ("MFLOP", 1e6)):
        if flops >= size:
            return f"{flops / size:,.2f} {unit}"
    return f"{flops:,} FLOP"


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{cells}</table>"


def _checks(checks: Dict[str, Dict[str, Any]]) -> str:
    rows = [(html.escape(name), f"{c['value']:.4g}", f"{'<=' if c.get('kind') == 'max' else '>='} {c['limit']:g}",
             '<span class="pass">PASS</span>' if c["passed"] else f'<span class="fail">FAIL, missed by {c.get("missed_by", 0) * 100:.1f} %</span>')
            for name, c in checks.items()]
    return _table(("check", "measured", "limit", "result"), rows) if rows else "<p>none</p>"


def _goals(goals: Dict[str, Dict[str, Any]]) -> str:
    rows = [(html.escape(name), f"{g['value']:.3f}", f"{g['interval'][0]:.3f} - {g['interval'][1]:.3f}",
             f"{'<=' if g['kind'] == 'max' else '>='} {g['limit']:g}", f"{'met' if g['met'] else 'missed'} by {abs(g['margin']) * 100:.1f} %")
            for name, g in goals.items()]
    return _table(("goal", "measured", "95 % interval", "limit", "result"), rows) if rows else "<p>none</p>"


def _flatten(tree: Dict[str, Any], prefix: str = "") -> List[Tuple[str, str]]:
    """(key, value) rows of a nested dict: nested keys joined as `a.b`, lists joined with commas, sorted by key."""
    rows: List[Tuple[str, str]] = []
    for key, value in sorted(tree.items()):
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{name}.")
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(str(v) for v in value)))
        else:
            rows.append((name, "" if value is None else str(value)))
    return rows


def _quantization(recipe: Optional[Dict[str, Any]]) -> str:
    """The int8 model's recipe (PaddleSlim's settings and what the ONNX layout rewrote) as setting / value rows."""
    if not recipe:
        return "<p>none: the bundle has no int8 model</p>"
    return _table(("setting", "value"), ((html.escape(k), html.escape(v)) for k, v in _flatten(recipe)))


def _engines(summary: Dict[str, Any]) -> str:
    rows = []
    for name, e in summary["engines"].items():
        cold = e.get("cold") or {}
        accuracy = summary["accuracy"].get(name)
        rows.append((html.escape(e["label"]), e["precision"], f"{e['bytes'] / 1024:,.{1 if e['bytes'] < 10240 else 0}f}",
                     "-" if accuracy is None else f"{accuracy * 100:.2f} %" if summary["metric"] == "top1" else f"{accuracy:.4g}",
                     f"{cold['load_s'] * 1e3:.1f}" if cold else "-", f"{cold['first_inference_s'] * 1e3:.2f}" if cold else "-",
                     f"{cold['peak_rss_mb']:.0f}" if cold else "-"))
    return _table(("engine", "precision", "size KB", summary["metric"], "load ms", "first inference ms", "peak RSS MB"), rows)


def _latency(summary: Dict[str, Any]) -> str:
    rows = [(r["engine"], r["threads"], r["batch"], f"{r['p50_us']:,.1f}", f"{r['p90_us']:,.1f}", f"{r['p99_us']:,.1f}",
             f"{r['throughput']:,.0f}", f"{r['gflops']:.2f}", f"{r.get('speedup_vs_reference', float('nan')):.2f}",
             f"{r.get('ratio_vs_bare', float('nan')):.3f}") for r in summary["latency"]]
    return _table(("engine", "threads", "batch", "p50 us", "p90 us", "p99 us", "samples/s", "GFLOP/s", "x reference", "/ bare"), rows)


def _figures(summary: Dict[str, Any], run: RunDir) -> List[Tuple[str, str, str]]:
    """(id, caption, base64 PNG) of every chart this run's data supports."""
    samples = {(c["engine"], c["threads"], c["batch"]): c["samples_us"] for c in run.bench["cells"]}
    made = []
    if summary["classes"]:
        made += [(name, draw.__doc__ or name, _png(draw(summary))) for name, draw in charts.CLASS_CHARTS.items()]
    made += [(name, draw.__doc__ or name, _png(draw(summary))) for name, draw in charts.LATENCY_CHARTS.items()]
    made.append(("latency_distributions", charts.latency_distributions.__doc__ or "", _png(charts.latency_distributions(summary, samples))))
    made.append(("roofline", charts.roofline.__doc__ or "", _png(charts.roofline(run.bench))))
    return made


def _db(value: Any) -> str:
    return "" if value is None else "exact" if value >= IDENTICAL_SQNR_DB else f"{value:.1f}"


def _quant_debug(debug: Dict[str, Any], top: int = 15) -> List[str]:
    """The quant-debug section: the worst rows, then SQNR along the graph and the worst tensors' histograms."""
    ranked = [next(r for r in debug["rows"] if r["output"] == o) for o in debug["ranking"][:top]]
    table = _table(("op", "kind", "type", "precision", "FLOPs", "local dB", "global dB", "Paddle local dB", "Paddle global dB", "Paddle global cosine", "clipped",
                    "fused vs exact"),
                   ((html.escape(r["output"]), r["kind"], r["op_type"], html.escape(r["precision"]), f"{100 * r['flops_share']:.1f} %",
                     _db(r["local_sqnr_db"]), _db(r["global_sqnr_db"]), _db(r.get("paddle_local_sqnr_db")), _db(r["paddle_global_sqnr_db"]),
                     "" if r.get("paddle_global_cosine") is None else f"{r['paddle_global_cosine']:.5f}",
                     "" if r["clipped_fraction"] is None else f"{100 * r['clipped_fraction']:.3f} %",
                     "" if r["fused"] is None else f"{r['fused']['local_max_steps']} step, {100 * r['fused']['global_differing']:.1f} %")
                    for r in ranked))
    parts = [f"<p>{html.escape(debug['float_file'])} vs {html.escape(debug['int8_file'])} (exact int8) on {debug['samples']} samples "
             f"of {html.escape(debug['data'])}; {len(debug['rows'])} rows, worst {min(top, len(ranked))} shown; fused kernels: "
             f"{html.escape(debug['fused_file'])} on {html.escape(debug['fused_engine'])}; "
             f"{len(debug['deviating_kernels'])} deviate by more than {debug['kernel_step_limit']} step.</p>", table]
    if debug.get("paddle_int8_model") and "output_sqnr_db" in debug:  # run with --int8-model (earlier reports lack it)
        parts.append(f"<p>Against PaddleSlim's program: {html.escape(export_loss_text(debug))}.</p>")
    if debug.get("export_steps"):
        parts.append(f"<p>Against paddle2onnx's graph: {html.escape(export_steps_text(debug['export_steps']))}.</p>")
    for fig_id, draw in (("sqnr_along_graph", layer_charts.sqnr_along_graph), ("worst_histograms", layer_charts.worst_histograms)):
        parts.append(f"<figure id='{fig_id}'><img alt='{fig_id}' src='data:image/png;base64,{_png(draw(debug))}'>"
                     f"<figcaption>{html.escape(draw.__doc__ or fig_id)}</figcaption></figure>")
    return parts


def render(summary: Dict[str, Any], figures: List[Tuple[str, str, str]], debug: Optional[Dict[str, Any]] = None) -> str:
    """The whole page as one string."""
    title = f"paddle-edge report: {summary['model']}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{summary['samples']} test samples; {_flops(summary['flops_per_sample'])} per sample; "
             f"host {summary['host']['cores']} cores {html.escape(summary['cpu']['label'] if summary['cpu'] else summary['host']['machine'])}; latency figures at "
             f"{summary['goal_threads']} thread(s) unless a table says otherwise.</p>",
             "<h2>Quantization</h2>", _quantization(summary["quantization"]),
             "<h2>Engines</h2>", _engines(summary),
             "<h2>Speed goals (reported, never a failure)</h2>", _goals({**summary["goals"]["parity"], **summary["goals"]["bench"]}), "<h2>Parity checks</h2>", _checks(summary["checks"]["parity"])]
    for fig_id, caption, png in figures:
        parts.append(f"<figure id='{fig_id}'><img alt='{fig_id}' src='data:image/png;base64,{png}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    if debug is not None:
        parts += ["<h2>Where int8 loses (quant-debug)</h2>", *_quant_debug(debug)]
    parts += ["<h2>Latency and throughput</h2>", _latency(summary),
              "<h2>Toolchain</h2>", _table(("package", "version"), sorted(summary["toolchain"].items()))]
    if summary["skipped"]:
        parts += ["<h2>Skipped</h2>", _table(("what", "why"), ((html.escape(k), html.escape(v)) for k, v in summary["skipped"].items()))]
    return "\n".join(parts + ["</body></html>"])


def make_report(run_dir: Path) -> Tuple[Path, Path]:
    """Write RUN_DIR/report.html and RUN_DIR/report.json (the data behind the page); return their paths."""
    run = read_run_dir(Path(run_dir))
    summary = summarize(run)
    figures = _figures(summary, run)
    summary["charts"] = [fig_id for fig_id, _, _ in figures]
    page, data = run.root / HTML, run.root / DATA
    with atomic_file(data) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True))
    with atomic_file(page) as tmp:
        tmp.write_text(render(summary, figures, run.quant_debug), encoding="utf-8")
    return page, data
