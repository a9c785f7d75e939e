"""Untrusted bundles: hostile archives, manifests and ONNX files are refused before any model is parsed."""
from __future__ import annotations

import io
import os
import json
import shutil
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import pytest
from onnx import external_data_helper
from robustness import TRIED

from paddle_edge import runtime
from paddle_edge.runtime import bundle as bundle_module
from paddle_edge.runtime.errors import BundleError, PaddleEdgeError
from paddle_edge.runtime.files import sha256_file


def _archive(path: Path, add: Callable[[tarfile.TarFile], None]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        add(tar)
    return path


def _entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return add


HOSTILE = {
    "absolute path": _entry("/tmp/bundle/manifest.json", data=b"{}"),
    "dot-dot": _entry("bundle/../../escaped.json", data=b"{}"),
    "symlink": _entry("bundle/manifest.json", tarfile.SYMTYPE, link="/etc/passwd"),
    "hard link": _entry("bundle/manifest.json", tarfile.LNKTYPE, link="/etc/passwd"),
    "char device": _entry("bundle/null", tarfile.CHRTYPE),
    "block device": _entry("bundle/disk", tarfile.BLKTYPE),
    "fifo": _entry("bundle/pipe", tarfile.FIFOTYPE),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_archive_entries_are_refused_and_nothing_is_written_outside(kind, tmp_path):
    evil = _archive(tmp_path / "evil.tar.gz", HOSTILE[kind])
    with pytest.raises(BundleError, match="unsafe entry"):
        runtime.open(evil)
    TRIED["malformed archives"] += 1
    assert not (tmp_path.parent / "escaped.json").exists() and not Path("/tmp/bundle/manifest.json").exists()


def test_archives_over_the_limits_are_refused(tmp_path, monkeypatch):
    many = _archive(tmp_path / "many.tar.gz", lambda tar: [_entry(f"bundle/f{i}", data=b"x")(tar) for i in range(30)])
    big = _archive(tmp_path / "big.tar.gz", _entry("bundle/big.bin", data=b"\0" * 4096))
    monkeypatch.setattr(bundle_module, "MAX_ENTRIES", 20)
    monkeypatch.setattr(bundle_module, "MAX_UNPACKED_BYTES", 1024)
    for archive in (many, big):
        with pytest.raises(BundleError, match="unpacks to more than"):
            runtime.open(archive)
        TRIED["malformed archives"] += 1


@pytest.mark.parametrize("content", [b"", b"not a gzip file", b"\x1f\x8b\x08\x00" + b"\xff" * 100], ids=["empty", "text", "bad-gzip"])
def test_unreadable_archives_are_refused(content, tmp_path):
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BundleError, match="not a readable bundle archive"):
        runtime.open(path)
    TRIED["malformed archives"] += 1


def _copy(lenet_bundle, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(lenet_bundle.directory, copy)
    return copy


def _rewrite_manifest(root: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    change(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_artifact_paths_that_leave_the_bundle_are_refused(lenet_bundle, tmp_path):
    for place in ("../outside.onnx", "/etc/passwd"):
        copy = _copy(lenet_bundle, tmp_path / place.replace("/", "_"))
        _rewrite_manifest(copy, lambda m, p=place: m["artifacts"]["onnx-fp32"].update(path=p))
        with pytest.raises(BundleError, match="points outside the bundle"):
            runtime.load_bundle(copy)
        TRIED["malformed archives"] += 1


def test_oversized_or_binary_manifest_is_refused(lenet_bundle, tmp_path):
    copy = _copy(lenet_bundle, tmp_path)
    (copy / "manifest.json").write_bytes(b" " * (2 << 20))
    with pytest.raises(BundleError, match="larger than a manifest"):
        runtime.load_bundle(copy)
    (copy / "manifest.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(BundleError, match="not UTF-8"):
        runtime.load_bundle(copy)
    TRIED["malformed archives"] += 2


def test_onnx_external_data_outside_the_bundle_is_refused(lenet_bundle, tmp_path):
    """A hash-consistent bundle whose ONNX reads a weight from ../../etc/passwd: refused before ONNX Runtime sees it."""
    copy = _copy(lenet_bundle, tmp_path)
    model = onnx.load(str(copy / "model.fp32.onnx"))
    tensor = next(t for t in external_data_helper._get_all_tensors(model) if len(t.dims) == 4)
    external_data_helper.set_external_data(tensor, "../../etc/passwd")
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    (copy / "model.fp32.onnx").write_bytes(model.SerializeToString())
    path = copy / "model.fp32.onnx"
    _rewrite_manifest(copy, lambda m: m["artifacts"]["onnx-fp32"].update(sha256=sha256_file(path), bytes=path.stat().st_size))
    with pytest.raises(BundleError, match="external data from '../../etc/passwd', outside its bundle"):
        runtime.open(copy, precision="fp32")
    TRIED["malformed archives"] += 1


def test_a_garbage_onnx_with_a_matching_hash_is_refused_as_malformed(lenet_bundle, tmp_path):
    copy = _copy(lenet_bundle, tmp_path)
    path = copy / "model.int8.onnx"
    path.write_bytes(b"\x0a\xff\xff\xff\xff\x0f" + b"\x00" * 32)  # a length-delimited field claiming 4 GB
    _rewrite_manifest(copy, lambda m: m["artifacts"]["onnx-int8"].update(sha256=sha256_file(path), bytes=path.stat().st_size))
    with pytest.raises(BundleError, match="not a well-formed ONNX protobuf"):
        runtime.load_bundle(copy)
    TRIED["malformed archives"] += 1


def test_a_pickle_that_would_run_code_is_refused(lenet, tmp_path):
    """layer.pdparams is a pickle: the safe loader reads the real one and refuses one that calls os.system."""
    import pickle

    from paddle_edge.train.safe_pickle import load_state_dict

    state = load_state_dict(lenet.model_dir / "layer.pdparams")
    assert state and all(v.dtype == np.float32 for v in state.values())

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    evil = tmp_path / "layer.pdparams"
    evil.write_bytes(pickle.dumps({"0.weight": Payload()}))
    with pytest.raises(PaddleEdgeError, match="asks to run posix.system"):
        load_state_dict(evil)
    assert not (tmp_path / "pwned").exists()
    TRIED["malformed archives"] += 1


def test_an_archive_is_unpacked_once_and_a_damaged_cached_copy_is_replaced(lenet_bundle, tmp_path, monkeypatch):
    """One cached copy per archive content (sha256), whatever its name; each open verifies it, so a changed copy is
    refused and unpacked again from the archive."""
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    renamed = Path(shutil.copy(lenet_bundle.archive, tmp_path / "renamed.tar.gz"))
    first = runtime.load_bundle(lenet_bundle.archive)
    assert runtime.load_bundle(lenet_bundle.archive).root == first.root == runtime.load_bundle(renamed).root
    entries = sorted(p.name for p in (tmp_path / "cache" / "bundles").iterdir())
    assert entries == [sha256_file(lenet_bundle.archive)]  # no second copy, no .partial left behind
    cached = first.path_of("onnx-int8")
    with open(cached, "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    with pytest.raises(BundleError, match="model.int8.onnx.*sha256"):
        runtime.load_bundle(first.root)
    again = runtime.load_bundle(lenet_bundle.archive)
    assert again.root == first.root and sha256_file(cached) == again.manifest.artifacts["onnx-int8"].sha256
    assert sorted(p.name for p in (tmp_path / "cache" / "bundles").iterdir()) == entries
    assert runtime.open(renamed, precision="int8").predict(np.zeros((1, 1, 28, 28), np.float32))[0].shape == (1, 10)
    TRIED["malformed archives"] += 1
