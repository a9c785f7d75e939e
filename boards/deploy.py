"""`paddle-edge deploy`: ship a bundle and the runtime wheel to a real board over SSH, install what it lacks into a venv
there, run parity and a latency benchmark on it, bring the report back.

The board needs no internet: its wheels (paddle-edge-runtime, onnxruntime, numpy, Pillow, OpenVINO's with `--backend openvino`, and pip itself) are built or
downloaded here for the profile's platform tags and Python, and installed there with `pip --no-index`. The venv keeps a
list of the wheels shipped to it (each by its name and the sha256 of its RECORD, which lists every file's sha256), so a
later deploy whose wheels are all listed, at the versions the venv's python reports, copies and installs nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
import shlex
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from .. import __version__, runtime
from ..export.debian_rootfs import run_step
from .board_parity import BoardParityReport, board_parity
from .board_run import install_runtime
from .profile import BoardProfile
from .ssh import SshBoard, SshError, SshTarget, have_ssh

MIN_PYTHON = (3, 9)
PIP = "pip==25.3"  # shipped beside the profile's packages: it installs them on the board with --no-index
# Swaps a bundle folder left by an older deploy (no link yet) for the link, in one step; run by the board's runtime.
EXCHANGE = ("import sys\nfrom paddle_edge.runtime.files import _exchange\nif not _exchange(sys.argv[1], sys.argv[2]):\n"
            "    sys.exit(f'this filesystem cannot swap {sys.argv[2]} for a link in one step: remove that folder and deploy again')")
RUNTIME_PYPROJECT = """[build-system]
requires = ["setuptools>=70.1"]  # bdist_wheel built in
build-backend = "setuptools.build_meta"

[project]
name = "paddle-edge-runtime"
version = "{version}"
description = "The thin runtime of paddle-edge: runs a bundle with numpy and onnxruntime (or paddlelite)."
requires-python = ">=3.9"
dependencies = ["numpy>=1.21", "onnxruntime>=1.17", "Pillow>=9"]

[tool.setuptools]
packages = ["paddle_edge", "paddle_edge.runtime", "paddle_edge.runtime.backends"]
"""


def build_runtime_wheel(out: Path) -> Path:
    """The runtime alone (paddle_edge/__init__.py + paddle_edge/runtime) as a wheel, built with pip."""
    with tempfile.TemporaryDirectory(prefix="paddle-edge-wheel-") as tmp:
        project = install_runtime(Path(tmp) / "project")
        (project / "pyproject.toml").write_text(RUNTIME_PYPROJECT.format(version=__version__))
        run_step([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(project)],
                 "building the runtime wheel", "pip fetches setuptools to build it: check that PyPI is reachable")
    return next(Path(out).glob("paddle_edge_runtime-*.whl"))


def board_wheels(profile: BoardProfile, out: Path, backend: str = "onnxruntime") -> List[Path]:
    """The runtime's dependencies, `backend`'s (OpenVINO's wheel) and pip for the board's platform tags and Python,
    downloaded here."""
    packages = (*profile.runtime.packages_for(backend, profile.name), PIP)
    run_step([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(out), "--python-version", profile.python,
              "--implementation", "cp", *(a for tag in profile.wheel_platforms for a in ("--platform", tag)), *packages],
             f"downloading {' '.join(packages)} for {profile.name}", "check that PyPI is reachable from this machine")
    return sorted(Path(out).glob("*.whl"))


WHEELS_LIST = "paddle-edge-wheels.json"  # in the board's venv: the wheels shipped to it (wheel_identity), none while pip runs


def wheel_identity(wheel: Path) -> str:
    """'NAME.whl sha256:HASH', HASH of the wheel's RECORD: the same for a runtime wheel rebuilt from the same files,
    whose zip timestamps differ."""
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        return f"{wheel.name} sha256:{hashlib.sha256(archive.read(record)).hexdigest()}"


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(identity: str) -> str:
    """A wheel's distribution name, normalized, from its file name or identity."""
    return _normalized(identity.split("-", 1)[0])


def after_install(installed: Iterable[str], wheels: Iterable[str]) -> List[str]:
    """The venv's wheel list once `wheels` are installed over `installed`: a wheel replaces its distribution's older one."""
    new = set(wheels)
    replaced = {_distribution(w) for w in new}
    return sorted(new | {w for w in installed if _distribution(w) not in replaced})


# what the board's venv has, as pip installed it: {normalized name: version}
VERSIONS = ("import importlib.metadata as m, json, re\n"
            "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version for d in m.distributions()}))")


def _listed(board: SshBoard, listed: str) -> List[str]:
    """The venv's wheel list; empty where there is none, or one cut short."""
    try:
        found = json.loads(board.shell(f"cat {listed} 2>/dev/null", check=False).stdout or "[]")
    except json.JSONDecodeError:
        return []
    return found if isinstance(found, list) else []


def _versions(board: SshBoard) -> Dict[str, str]:
    """What the venv's python reports installed: {normalized name: version}; empty where it cannot start."""
    proc = board.python(["-c", VERSIONS])
    try:
        return json.loads(proc.stdout) if proc.returncode == 0 else {}
    except json.JSONDecodeError:
        return {}


def _has_all(installed: Sequence[str], wanted: Sequence[str], versions: Dict[str, str]) -> bool:
    """Whether the venv's wheel list has every wanted wheel and its python reports each at its wheel's version (a list
    outliving a package removed by hand, or a venv whose python broke, is not trusted)."""
    return set(wanted) <= set(installed) and all(versions.get(_distribution(w)) == w.split("-")[1] for w in wanted)


def prepare_venv(board: SshBoard, wheels: Path, backend: str = "onnxruntime") -> str:
    """Create the board's venv if missing and install the wheels into it (the runtime's, and `backend`'s) with pip
    --no-index, unless it has them all already (_has_all); return what is installed."""
    t = board.target
    listed = f"{t.remote_dir}/venv/{WHEELS_LIST}"
    wanted = [wheel_identity(w) for w in sorted(wheels.glob("*.whl")) if not w.name.startswith("pip-")]  # pip runs from its wheel
    installed = _listed(board, listed)
    versions = _versions(board) if set(wanted) <= set(installed) else {}
    if _has_all(installed, wanted, versions):
        print(f"deploy: venv {t.remote_dir}/venv has these {len(wanted)} wheels already: nothing copied or installed", flush=True)
    else:
        pip_wheel = next(wheels.glob("pip-*.whl")).name
        runtime_wheel = next(wheels.glob("paddle_edge_runtime-*.whl")).name
        with board.workspace(wheels, fetch=()) as there:
            pip = f"{t.launcher} {board.venv_python} {there}/{pip_wheel}/pip install --quiet --no-index --no-compile --find-links {there}"
            board.shell(f"rm -f {listed} && (test -e {board.venv_python} || "  # no list while pip changes the venv
                        f"{t.launcher} {shlex.quote(t.remote_python)} -m venv --without-pip {t.remote_dir}/venv)")
            board.shell(f"{pip} " + " ".join(shlex.quote(p) for p in board.profile.runtime.packages_for(backend, board.profile.name)))
            board.shell(f"{pip} --no-deps --force-reinstall {there}/{runtime_wheel}")
        listing = shlex.quote(json.dumps(after_install(installed, wanted)))
        board.shell(f"printf '%s' {listing} > {listed}.tmp && mv {listed}.tmp {listed}")
        versions = _versions(board)
    names = ["paddle-edge-runtime", "onnxruntime", "numpy", "Pillow", *filter(None, [board.profile.runtime.engine_for(backend, board.profile.name)])]
    return ", ".join(f"{n} {versions.get(_normalized(n), 'not installed')}" for n in names)


def _install_bundle(board: SshBoard, bundle_dir: Path) -> str:
    """Put the bundle at REMOTE_DIR/bundles/NAME so that NAME is always the old whole bundle or the new whole one; return where.

    NAME is a symbolic link to a version folder `.NAME.XXXXXX` beside it. The bundle is copied into a new version folder,
    then a link to it takes NAME's place in one rename (GNU `mv -T`); the other versions (the old one, and any a killed
    deploy left half-copied) are removed after the switch. A folder at NAME from an older deploy is swapped for the link
    in one step (renameat2 RENAME_EXCHANGE, by the runtime on the board)."""
    bundles, name = f"{board.target.remote_dir}/bundles", shlex.quote(bundle_dir.name)
    version = board.shell(f"mkdir -p {bundles} && mktemp -d {bundles}/.{name}.XXXXXX").stdout.strip()
    print(f"deploy: copying the bundle to {board.target.host}:{version}", flush=True)
    try:
        board.copy([str(p) for p in sorted(bundle_dir.iterdir())], f":{version}/")
    except SshError:
        board.shell(f"rm -rf {shlex.quote(version)}", check=False, timeout=60)
        raise
    v, link = shlex.quote(Path(version).name), shlex.quote(f"{Path(version).name}.link")
    exchange = f"{board.target.launcher} {board.venv_python} -c {shlex.quote(EXCHANGE)} {link} {name}"
    board.shell(f"cd {bundles} && chmod 755 {v} && ln -s {v} {link} && "
                f"if [ -d {name} ] && [ ! -L {name} ]; then {exchange}; else mv -T {link} {name}; fi && "
                f'for old in .{name}.?????? .{name}.??????.link; do [ "$old" = {v} ] || rm -rf "$old"; done')  # mktemp: 6 Xs
    return f"{bundles}/{bundle_dir.name}"


def deploy(bundle_path: Path, profile: BoardProfile, target: SshTarget, limit: Optional[int] = None,
           threads: Optional[int] = None, calls: int = 50, backend: str = "onnxruntime") -> BoardParityReport:
    """Ship, install (with `backend`'s wheel where it is OpenVINO), check: the board's parity report, run by `backend`,
    with where the bundle and the venv went."""
    if tuple(int(v) for v in profile.python.split(".")[:2]) < MIN_PYTHON:
        raise SshError(f"board {profile.name} runs Python {profile.python}; the runtime needs {'.'.join(map(str, MIN_PYTHON))} or newer",
                       "upgrade the board's OS, or add a profile for the Python it has")
    if profile.runtime.engine_for(backend, profile.name) == "paddlelite":  # refused before connecting, as any it cannot install
        raise SshError("deploy installs wheels, and Paddle Lite has none for ARM Linux: its light library is built here "
                       "(`paddle-edge lite-build`) for the emulated boards",
                       "check the .nb on an emulated board (`paddle-edge board parity rpi4 BUNDLE --backend "
                       "paddlelite`), or deploy with backend onnxruntime")
    have_ssh()
    bundle = runtime.load_bundle(Path(bundle_path))
    board = SshBoard(profile, target)
    board.shell("true", timeout=target.connect_timeout + 20)
    print(f"deploy: {bundle.manifest.model} -> {target.host}:{target.remote_dir} ({profile.name})", flush=True)
    with tempfile.TemporaryDirectory(prefix="paddle-edge-wheels-") as tmp:
        wheels = Path(tmp)
        build_runtime_wheel(wheels)
        board_wheels(profile, wheels, backend)
        installed = prepare_venv(board, wheels, backend)
    print(f"deploy: venv {target.remote_dir}/venv has {installed}", flush=True)
    report = board_parity(board, bundle.root, threads=threads, limit=limit, calls=calls, backend=backend)
    report.data.update(deployed_to=f"{target.host}:{_install_bundle(board, bundle.root)}", venv=f"{target.remote_dir}/venv", installed=installed)
    return report

