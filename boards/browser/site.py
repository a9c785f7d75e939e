"""`paddle-edge export BUNDLE --target web --out DIR`: a static site a person opens to try a bundle's classifier in their
browser: draw on a pad or drop an image, see fp32 and int8 side by side with their probabilities and latency.

Everything the page needs is in DIR (the page, the runtime's preprocessing in JavaScript, onnxruntime-web's wasm files,
the bundle's ONNX files as they ship, site.json with what the page reads of the manifest), and its Content-Security-Policy
lets it fetch from its own server only. Serve it with `paddle-edge serve DIR` (the headers wasm threads need)."""
from __future__ import annotations

import dataclasses
import json
import shutil
from html import escape
from pathlib import Path

from ... import runtime
from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_dir
from .board import PAGE
from .onnxruntime_web import BACKEND_FILES, onnxruntime_web

SITE_JSON = "site.json"
SCRIPTS = ("app.js", "preprocess.js")


def write_site(bundle_path: Path, out: Path) -> Path:
    """Write the site for the bundle at `bundle_path` into `out` (replaced whole, or left as it was on error)."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (out / SITE_JSON).is_file():
        raise PaddleEdgeError(f"{out} exists and is not a page paddle-edge wrote (no {SITE_JSON}): it would be replaced whole",
                              "pass a new or empty folder to --out")
    if (manifest.task != "classification" or manifest.preprocess.image is None or len(manifest.inputs) != 1
            or manifest.inputs[0].dtype != "float32"):
        raise PaddleEdgeError(f"the web page shows an image classifier's answers; {manifest.model} is a {manifest.task} model"
                              + ("" if manifest.preprocess.image else " without image preprocessing"),
                              f"check it in a browser with `paddle-edge board parity browser {bundle_path}` instead")
    models = {}
    with atomic_dir(out) as staging:
        (staging / "ort").mkdir()
        ort = onnxruntime_web()
        for name in BACKEND_FILES["wasm"]:
            shutil.copyfile(ort / name, staging / "ort" / name)
        (staging / "models").mkdir()
        for precision in manifest.precisions("onnx"):
            _, art = manifest.pick("onnx", precision)
            models[precision] = f"models/{Path(art.path).name}"
            shutil.copyfile(bundle.root / art.path, staging / models[precision])
        html = (PAGE / "app.html").read_text().replace("MODEL_NAME", escape(manifest.model))
        (staging / "index.html").write_text(html)
        for script in SCRIPTS:
            shutil.copyfile(PAGE / script, staging / script)
        site = {"model": manifest.model, "input": manifest.inputs[0].name, "labels": list(manifest.labels or ()),
                "preprocess": dataclasses.asdict(manifest.preprocess), "models": models,
                "probabilities": bool(manifest.postprocess.get("probabilities", False))}
        (staging / SITE_JSON).write_text(json.dumps(site, indent=2))
    return out
