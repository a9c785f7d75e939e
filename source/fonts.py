"""Chinese faces for rendered text: the Noto CJK fonts of Debian's fonts-noto-cjk package, found or fetched once.

Where they come from, in order:
1. /usr/share/fonts/opentype/noto, where `apt-get install fonts-noto-cjk` puts them (the package's four files there);
2. the cache, $PADDLE_EDGE_CACHE/fonts/fonts-noto-cjk (by default ~/.cache/paddle-edge/fonts/fonts-noto-cjk), filled on
   first use by `apt-get download fonts-noto-cjk` into a temporary directory (a download: nothing is installed, no root
   is needed) and `dpkg-deb --fsys-tarfile`, from which only the four font files are taken, by their plain names. apt
   checks the .deb against the archive's signed index; fonts.json beside the files records the package's version, the
   .deb's size and sha256 and each file's sha256, and every use checks the files' sizes against it (a render's
   synthetic.json records their sha256).

apt-get needs package lists that know the package. A fresh Debian container has none: as root, `apt-get update` is run
once and the download tried again; as another user the error says to run it. With no apt-get, or no way to Debian's
archive, the error names the other fix: install fonts-noto-cjk, or copy its four files into the cache directory.

Measured on Debian 12 (bookworm): fonts-noto-cjk 1:20220127+repack1-1, .deb 56,547,048 bytes (sha256
4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502), four .ttc collections of 93 MB in all (Sans and
Serif, Regular and Bold; each holds JP, KR, SC, TC and HK faces, the Sans ones monospaced variants too); fetched and
unpacked in about 5 s."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Dict, Optional, Tuple

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, cache_dir, exclusive_lock, sha256_file

PACKAGE = "fonts-noto-cjk"
FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc")
SYSTEM_DIR = Path("/usr/share/fonts/opentype/noto")
RECORD = "fonts.json"
_LISTS_UNKNOWN = ("Unable to locate package", "has no installation candidate", "No packages found",
                  "Can't select candidate version")


class FontFetchError(PaddleEdgeError):
    """The Noto CJK fonts are neither installed nor cached, and could not be fetched."""


def _fix(cache: Path) -> str:
    return (f"as root run `apt-get update && apt-get install -y {PACKAGE}` (or copy {', '.join(FILES)} from that "
            f"package into {cache}), then retry")


def noto_cjk_files() -> Tuple[Path, ...]:
    """The four Noto CJK font files: the installed package's, else the cache's, fetched there on first use."""
    system = tuple(SYSTEM_DIR / name for name in FILES)
    if all(path.is_file() for path in system):
        return system
    cache = cache_dir("fonts") / PACKAGE
    files = _cached(cache)
    if files is not None:
        return files
    with exclusive_lock(cache.parent / f".{PACKAGE}.lock"):
        files = _cached(cache)
        if files is None:
            with atomic_dir(cache) as tmp:
                _fetch(tmp, cache)
            files = _cached(cache)
    if files is None:  # the fetch wrote what _cached checks: only a concurrent writer could get here
        raise FontFetchError(f"{cache} changed while it was being filled", f"delete {cache} and retry")
    return files


def _cached(cache: Path) -> Optional[Tuple[Path, ...]]:
    """The cached files when fonts.json records all four and their sizes match; None where nothing is cached; a
    damaged cache is an error (bytes that changed on disk are worth hearing about), whose fix is to fetch again."""
    files = tuple(cache / name for name in FILES)
    record_path = cache / RECORD
    if not record_path.is_file():
        copied = all(path.is_file() for path in files)
        if copied:  # the user copied the files in by hand, as the error's fix says: record them
            _write_record(cache, {"package": PACKAGE, "version": None, "source": "copied by hand"})
        return files if copied else None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        sizes = {name: record["files"][name]["size"] for name in FILES}
    except (OSError, ValueError, KeyError, TypeError):
        raise FontFetchError(f"{record_path} is not a record paddle-edge wrote", f"delete {cache} and retry") from None
    for path in files:
        if not path.is_file() or path.stat().st_size != sizes[path.name]:
            raise FontFetchError(f"{path} is missing or not the file {RECORD} records", f"delete {cache} and retry")
    return files


def _write_record(folder: Path, origin: Dict[str, object]) -> None:
    files = {name: {"size": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)} for name in FILES}
    (folder / RECORD).write_text(json.dumps({**origin, "files": files}, indent=2) + "\n", encoding="utf-8")


def _tool(name: str, cache: Path) -> str:
    found = shutil.which(name)
    if found is None:
        raise FontFetchError(f"Chinese text lines need the Noto CJK fonts ({PACKAGE}), which are not installed, and "
                             f"there is no {name} here to fetch them", _fix(cache))
    return found


def _fetch(dest: Path, cache: Path) -> None:
    """Download the package with apt-get (after `apt-get update` as root where the lists do not know it) and take
    its four font files out into `dest`, with fonts.json."""
    apt_get, dpkg_deb = _tool("apt-get", cache), _tool("dpkg-deb", cache)
    dest.chmod(0o755)  # a cache others may read, as installed fonts are
    with tempfile.TemporaryDirectory(prefix="noto-cjk-", dir=dest.parent) as download:
        proc = _download(apt_get, Path(download))
        if proc.returncode != 0 and any(s in proc.stdout + proc.stderr for s in _LISTS_UNKNOWN) and os.geteuid() == 0:
            update = subprocess.run([apt_get, "update"], capture_output=True, text=True,
                                    env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if update.returncode == 0:
                proc = _download(apt_get, Path(download))
        debs = sorted(Path(download).glob("*.deb"))
        if proc.returncode != 0 or len(debs) != 1:
            said = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
            raise FontFetchError(f"`apt-get download {PACKAGE}` failed (exit {proc.returncode}); Chinese text lines "
                                 f"need its Noto CJK fonts:\n{said}", _fix(cache))
        deb = debs[0]
        version = subprocess.run([dpkg_deb, "--field", str(deb), "Version"], capture_output=True,
                                 text=True).stdout.strip()
        _unpack(dpkg_deb, deb, dest, cache)
        _write_record(dest, {"package": PACKAGE, "version": version, "deb": deb.name.replace("%3a", ":"),
                             "deb_size": deb.stat().st_size, "deb_sha256": sha256_file(deb)})


def _download(apt_get: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([apt_get, "download", PACKAGE], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _unpack(dpkg_deb: str, deb: Path, dest: Path, cache: Path) -> None:
    """The package's data members named as one of FILES, streamed out of `dpkg-deb --fsys-tarfile`, each written under
    its plain name in `dest` (no other member is extracted, and no member's own path is used)."""
    proc = subprocess.Popen([dpkg_deb, "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    found = set()
    try:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            for member in archive:
                name = PurePosixPath(member.name).name
                if member.isfile() and name in FILES and name not in found:
                    source = archive.extractfile(member)
                    assert source is not None
                    with source, open(dest / name, "wb") as out:
                        shutil.copyfileobj(source, out)
                    found.add(name)
    finally:
        stderr = proc.communicate()[1].decode(errors="replace")
    if proc.returncode != 0 or found != set(FILES):
        missing = ", ".join(sorted(set(FILES) - found)) or "none"
        raise FontFetchError(f"{deb.name} could not be unpacked (dpkg-deb exit {proc.returncode}; files missing: "
                             f"{missing}) {stderr.strip()}", _fix(cache))
