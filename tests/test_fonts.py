"""Noto CJK for rendered Chinese lines: fetched from Debian's archive into the cache with apt-get (no install, no root
needed), recorded with sha256, checked on use, and a clear error naming the fix when it cannot be had."""
from __future__ import annotations

import json
import os
import stat

import pytest
from PIL import ImageFont

from paddle_edge.runtime.files import sha256_file
from paddle_edge.source import fonts
from paddle_edge.source.fonts import FILES, PACKAGE, RECORD, FontFetchError, noto_cjk_files


@pytest.fixture(scope="module")
def shared_files():
    """The fonts as every render on this machine gets them (installed, or fetched into the user's cache)."""
    return noto_cjk_files()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh cache, and no installed copy to fall back on."""
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fonts, "SYSTEM_DIR", tmp_path / "no-system-fonts")
    return tmp_path / "cache" / "fonts" / PACKAGE


def test_the_four_collections_hold_simplified_chinese_faces(shared_files):
    assert [p.name for p in shared_files] == list(FILES)
    for path in shared_files:
        families = []
        for index in range(12):
            try:
                families.append(ImageFont.truetype(str(path), 12, index=index).getname()[0])
            except OSError:
                break
        assert any(f.endswith(" SC") for f in families), (path, families)


def test_a_fetch_into_an_empty_cache_gets_the_same_files_and_records_them(empty_cache, shared_files):
    files = noto_cjk_files()
    assert files == tuple(empty_cache / name for name in FILES)
    record = json.loads((empty_cache / RECORD).read_text(encoding="utf-8"))
    assert record["package"] == PACKAGE and record["version"] and record["deb"].endswith("_all.deb")
    assert record["deb_size"] > 10_000_000 and len(record["deb_sha256"]) == 64
    for mine, shared in zip(files, shared_files):
        assert record["files"][mine.name] == {"size": mine.stat().st_size, "sha256": sha256_file(mine)}
        assert sha256_file(mine) == sha256_file(shared)  # the same bytes as the fonts this machine renders with
    assert sorted(p.name for p in empty_cache.iterdir()) == sorted([*FILES, RECORD])  # nothing else of the package
    assert stat.S_IMODE(empty_cache.stat().st_mode) == 0o755
    assert noto_cjk_files() == files  # the second call finds them


def test_installed_fonts_are_used_as_they_are(tmp_path, monkeypatch, shared_files):
    system = tmp_path / "usr-share-fonts-opentype-noto"
    system.mkdir()
    for path in shared_files:
        (system / path.name).symlink_to(path)
    monkeypatch.setattr(fonts, "SYSTEM_DIR", system)
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    assert noto_cjk_files() == tuple(system / name for name in FILES)
    assert not (tmp_path / "cache" / "fonts" / PACKAGE).exists()


def test_files_copied_in_by_hand_are_taken_and_recorded(empty_cache, shared_files):
    empty_cache.mkdir(parents=True)
    for path in shared_files:
        (empty_cache / path.name).symlink_to(path)
    assert noto_cjk_files() == tuple(empty_cache / name for name in FILES)
    record = json.loads((empty_cache / RECORD).read_text(encoding="utf-8"))
    assert record["source"] == "copied by hand" and set(record["files"]) == set(FILES)


def test_a_damaged_cache_is_an_error_naming_the_fix(empty_cache, shared_files):
    empty_cache.mkdir(parents=True)
    for path in shared_files:
        (empty_cache / path.name).symlink_to(path)
    noto_cjk_files()
    (empty_cache / FILES[1]).unlink()
    (empty_cache / FILES[1]).write_bytes(b"not a font")
    with pytest.raises(FontFetchError, match=f"{FILES[1]} is missing or not the file") as err:
        noto_cjk_files()
    assert err.value.fix == f"delete {empty_cache} and retry"


def test_without_apt_get_the_error_names_the_package_and_the_cache(empty_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(FontFetchError, match=r"need the Noto CJK fonts \(fonts-noto-cjk\).* no apt-get here") as err:
        noto_cjk_files()
    assert "apt-get install -y fonts-noto-cjk" in err.value.fix and str(empty_cache) in err.value.fix
    assert not empty_cache.exists()


def test_a_failed_download_says_what_apt_said(empty_cache, tmp_path, monkeypatch):
    """apt-get that cannot find the package (a machine whose package lists were never fetched): as root the lists are
    updated once and the download tried again; then the error quotes apt and names the fix."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n"
                   "if [ \"$1\" = update ]; then exit 0; fi\n"
                   "echo 'E: Unable to locate package fonts-noto-cjk' >&2\nexit 100\n")
    apt.chmod(0o755)
    (bin_dir / "dpkg-deb").symlink_to("/usr/bin/dpkg-deb")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(FontFetchError, match="Unable to locate package fonts-noto-cjk") as err:
        noto_cjk_files()
    assert "apt-get update && apt-get install -y fonts-noto-cjk" in err.value.fix
    expected = ["download fonts-noto-cjk", "update", "download fonts-noto-cjk"] if os.geteuid() == 0 \
        else ["download fonts-noto-cjk"]
    assert calls.read_text().splitlines() == expected
    assert [p.name for p in empty_cache.parent.iterdir()] == [f".{PACKAGE}.lock"]  # no download or partial left
