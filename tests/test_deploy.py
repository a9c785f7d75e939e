"""Deploy over SSH for real: a Debian sshd on 127.0.0.1 with a throwaway key, whose logins run the emulated rpi4's python."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest

from paddle_edge.boards.board_run import board_for
from paddle_edge.boards.deploy import (WHEELS_LIST, _install_bundle, after_install, board_wheels, build_runtime_wheel, deploy, prepare_venv,
                                       wheel_identity)
from paddle_edge.boards.profile import get_profile
from paddle_edge.boards.ssh import SshBoard, SshError, SshTarget
from paddle_edge.boards.tune import tune
from paddle_edge.export.debian_rootfs import debian_tool
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.files import sha256_file
from paddle_edge.runtime.tuning import tuning_dir

pytestmark = pytest.mark.board

# The sshd's SFTP subsystem (scp speaks SFTP): OpenSSH's own sftp-server behind a relay of its requests. While the file
# `stall-on` in FOLDER names a path fragment, the relay stops passing requests on at the third write after the client
# opens a file whose path holds it, and writes `stalled`: from then on that copy is under way and cannot finish.
SFTP_RELAY = """
import os, struct, subprocess, sys
from pathlib import Path

folder = Path(sys.argv[1])
pattern = (folder / "stall-on").read_text() if (folder / "stall-on").exists() else None
server = subprocess.Popen(["/usr/lib/openssh/sftp-server"], stdin=subprocess.PIPE)  # it answers on our stdout

def read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

writes = None  # writes passed on since the watched file was opened
while (head := read(4)) is not None and (body := read(struct.unpack(">I", head)[0])) is not None:
    if body[0] == 3 and writes is None and pattern:  # SSH_FXP_OPEN: type, id, then the path as a string
        if pattern in body[9:9 + struct.unpack(">I", body[5:9])[0]].decode(errors="replace"):
            writes = 0
    elif body[0] == 6 and writes is not None:  # SSH_FXP_WRITE
        if writes == 2:
            (folder / "stalled").write_text("stalled")
            while read(1 << 16) is not None:  # never answered: the client waits until it is killed
                pass
            break
        writes += 1
    server.stdin.write(head + body)
    server.stdin.flush()
server.stdin.close()
server.wait()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """sshd -D on a free loopback port; yields (port, folder with client_key and known_hosts)."""
    sshd_bin = debian_tool("sshd", "openssh-server")
    folder = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    (folder / "sftp_relay.py").write_text(SFTP_RELAY)
    port = _free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        f"PidFile {folder / 'sshd.pid'}", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "AllowUsers root",
        f"Subsystem sftp {sys.executable} {folder / 'sftp_relay.py'} {folder}", ""]))  # Debian's sftp-server, relayed
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    server = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(folder / "sshd_config")], stderr=open(folder / "sshd.log", "w"))
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield port, folder
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def board_login(sshd, tmp_path_factory):
    """A login on the sshd whose python is the emulated rpi4's (run through qemu, as binfmt_misc would on a real host)."""
    port, folder = sshd
    rpi4 = board_for(get_profile("rpi4"))
    return SshTarget(host="root@127.0.0.1", port=port, identity=folder / "client_key", known_hosts=folder / "known_hosts",
                     remote_dir=str(tmp_path_factory.mktemp("board-home")), remote_python=str(rpi4.root / "usr/bin/python3"),
                     launcher=f"{rpi4.qemu} -cpu {rpi4.profile.emulation.qemu_cpu} -L {rpi4.root}")


@pytest.fixture(scope="module")
def deployed(board_login, lenet_bundle):
    """The bundle deployed once to the board: its parity report."""
    return deploy(lenet_bundle.archive, get_profile("rpi4"), board_login, limit=1000, calls=5)


def _snapshot(root: Path) -> Dict[str, str]:
    """sha256 of every file under `root` (a link to a folder is followed), by path relative to it."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _verify_on_board(board_login: SshTarget, bundle: Path) -> subprocess.CompletedProcess:
    """Load the bundle with the runtime in the board's venv: every artifact's size and sha256 against the manifest."""
    code = "import sys\nfrom paddle_edge.runtime import load_bundle\nprint(load_bundle(sys.argv[1]).manifest.model)"
    return SshBoard(get_profile("rpi4"), board_login).python(["-c", code, str(bundle)])


def test_deploy_ships_installs_and_checks(deployed, board_login, lenet_bundle):
    print(deployed.render())
    assert deployed.ok, deployed.render()
    info = deployed.data["board_info"]
    assert info["machine"] == "aarch64" and info["paddle_importable"] is False
    assert "paddle-edge-runtime 0.1.0" in deployed.data["installed"] and "onnxruntime 1.24.1" in deployed.data["installed"]
    home = Path(board_login.remote_dir)
    bundles = home / "bundles"
    assert (bundles / "lenet" / "manifest.json").is_file() and (home / "venv" / "pyvenv.cfg").is_file()
    version = os.readlink(bundles / "lenet")  # the bundle's name is a link to its one version folder
    assert sorted(p.name for p in bundles.iterdir()) == sorted(["lenet", version]) and version.startswith(".lenet.")
    assert _snapshot(bundles / "lenet") == _snapshot(lenet_bundle.directory) and not list(home.glob("incoming.*"))


def test_deploy_with_openvino_adds_its_wheel_to_the_venv_and_runs_parity_with_it(deployed, board_login, lenet_bundle):
    report = deploy(lenet_bundle.archive, get_profile("rpi4"), board_login, limit=300, calls=2, backend="openvino")
    print(report.render())
    d = report.data
    assert "openvino 2026.4.1" in d["installed"] and d["backend"] == "openvino" and d["board_info"]["versions"]["openvino"] == "2026.4.1"
    assert d["artifacts"]["int8"]["board"] == "onnx-int8-openvino" and d["checks"]["fp32_sqnr_db"]["passed"]  # fp32: the host's function
    listed = json.loads((Path(board_login.remote_dir) / "venv" / WHEELS_LIST).read_text())
    assert {w.split("-")[0] for w in listed} >= {"numpy", "onnxruntime", "openvino", "paddle_edge_runtime", "pillow"}, listed


def test_a_package_removed_from_the_venv_by_hand_is_installed_again(deployed, board_login, tmp_path, capsys):
    """The venv's wheel list alone is not trusted: a package its python no longer has is installed again."""
    board = SshBoard(get_profile("rpi4"), board_login)
    build_runtime_wheel(tmp_path)
    board_wheels(board.profile, tmp_path)
    site = next((Path(board_login.remote_dir) / "venv" / "lib").glob("python3.*/site-packages"))
    shutil.rmtree(next(site.glob("pillow-*.dist-info")))
    assert "Pillow" in prepare_venv(board, tmp_path)
    assert "nothing copied" not in capsys.readouterr().out and list(site.glob("pillow-*.dist-info"))
    prepare_venv(board, tmp_path)
    assert "wheels already: nothing copied or installed" in capsys.readouterr().out


def test_a_rebuilt_runtime_wheel_is_the_same_wheel_and_a_new_version_replaces_the_old(tmp_path):
    """deploy skips what the board's venv lists: a runtime wheel rebuilt from the same files must list the same."""
    first, again = (build_runtime_wheel(tmp_path / name) for name in ("a", "b"))
    assert wheel_identity(first) == wheel_identity(again) and wheel_identity(first).startswith(first.name + " sha256:")
    installed = ["numpy-1.26.4-cp311.whl sha256:1", "openvino-2026.4.1-cp311.whl sha256:2", "paddle_edge_runtime-0.1.0-py3.whl sha256:3"]
    assert after_install(installed, ["numpy-2.2.6-cp311.whl sha256:4", "paddle_edge_runtime-0.1.0-py3.whl sha256:5"]) == [
        "numpy-2.2.6-cp311.whl sha256:4", "openvino-2026.4.1-cp311.whl sha256:2", "paddle_edge_runtime-0.1.0-py3.whl sha256:5"]


def test_a_deploy_killed_while_copying_the_bundle_leaves_the_old_one_whole(deployed, sshd, board_login, lenet_bundle, tmp_path):
    folder = sshd[1]
    bundles = Path(board_login.remote_dir) / "bundles"
    version, before = os.readlink(bundles / "lenet"), _snapshot(bundles / "lenet")
    code = ("import json, sys\nfrom paddle_edge.boards.deploy import deploy\nfrom paddle_edge.boards.profile import get_profile\n"
            "from paddle_edge.boards.ssh import SshTarget\n"
            "deploy(sys.argv[1], get_profile('rpi4'), SshTarget(**json.loads(sys.argv[2])), limit=100, calls=2)")
    target = json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(board_login).items()})
    (folder / "stall-on").write_text("/bundles/.lenet.")
    try:
        with open(tmp_path / "deploy.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-c", code, str(lenet_bundle.archive), target], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # its own process group: ssh and scp die with it
            deadline = time.time() + 1200
            while not (folder / "stalled").exists() and proc.poll() is None and time.time() < deadline:
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    finally:
        (folder / "stall-on").unlink()
    said = (tmp_path / "deploy.log").read_text()
    assert (folder / "stalled").exists() and "deploy: copying the bundle to" in said, said
    assert "wheels already: nothing copied or installed" in said, said  # the venv had them from the deploys before
    (folder / "stalled").unlink()
    assert os.readlink(bundles / "lenet") == version and _snapshot(bundles / "lenet") == before
    proc = _verify_on_board(board_login, bundles / "lenet")
    assert proc.returncode == 0 and proc.stdout.split() == ["lenet"], proc.stdout + proc.stderr
    half = [p for p in bundles.glob(".lenet.*") if p.name != version]  # where the copy was cut
    assert len(half) == 1 and _snapshot(half[0]) and _snapshot(half[0]) != before
    proc = _verify_on_board(board_login, half[0])
    assert proc.returncode != 0 and "fix:" in proc.stderr, proc.stdout + proc.stderr


def test_a_bundle_folder_from_an_older_deploy_is_swapped_for_the_link(deployed, board_login, lenet_bundle):
    bundles = Path(board_login.remote_dir) / "bundles"
    (bundles / "lenet").unlink()
    shutil.copytree(lenet_bundle.directory, bundles / "lenet")  # how an older paddle-edge left it
    (bundles / ".lenet.Zz0000").mkdir()  # as a killed deploy leaves a version
    where = _install_bundle(SshBoard(get_profile("rpi4"), board_login), lenet_bundle.directory)
    assert where == f"{bundles}/lenet" and (bundles / "lenet").is_symlink()
    assert sorted(p.name for p in bundles.iterdir()) == sorted(["lenet", os.readlink(bundles / "lenet")])
    assert _snapshot(bundles / "lenet") == _snapshot(lenet_bundle.directory)


def test_a_refused_connection_names_the_problem(board_login, lenet_bundle):
    closed = SshTarget(**{**board_login.__dict__, "port": _free_port(), "connect_timeout": 3})
    with pytest.raises(SshError, match="cannot reach root@127.0.0.1 on port"):
        deploy(lenet_bundle.archive, get_profile("rpi4"), closed)
    with pytest.raises(PaddleEdgeError, match="x86-64's profile names no OpenVINO wheel"):  # before connecting
        deploy(lenet_bundle.archive, get_profile("x86-64"), closed, backend="openvino")


def test_a_silent_host_times_out(board_login, lenet_bundle):
    with socket.socket() as silent:  # accepts TCP connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        target = SshTarget(**{**board_login.__dict__, "port": silent.getsockname()[1], "connect_timeout": 3})
        start = time.time()
        with pytest.raises(SshError):
            deploy(lenet_bundle.archive, get_profile("rpi4"), target)
        assert time.time() - start < 60


def test_a_failure_on_the_board_leaves_nothing_half_copied(board_login, lenet_bundle, tmp_path):
    broken = SshTarget(**{**board_login.__dict__, "remote_dir": str(tmp_path / "home"), "remote_python": "/no/such/python3"})
    with pytest.raises(SshError, match="failed on root@127.0.0.1"):
        deploy(lenet_bundle.archive, get_profile("rpi4"), broken)
    assert not list((tmp_path / "home").glob("incoming.*")) and not (tmp_path / "home" / "bundles").exists()


def test_old_python_on_a_board_is_refused_up_front(board_login, lenet_bundle):
    with pytest.raises(SshError, match="Python 3.6; the runtime needs 3.9"):
        deploy(lenet_bundle.archive, get_profile("jetson-nano"), board_login)
    assert isinstance(SshBoard(get_profile("rpi4"), board_login).venv_python, str)


def test_tune_runs_on_the_deployed_board_with_its_own_runtime(deployed, board_login, lenet_bundle, tmp_path):
    bundle = tmp_path / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    board = SshBoard(get_profile("rpi4"), board_login)
    report = tune(board, bundle, names=("onnxruntime",), threads=[1], batches=(1,), calls=10, limit=200)
    print(report.render())
    assert report.ok and report.data["board_info"]["machine"] == "aarch64"
    assert not report.data["emulated"]  # reached over SSH: a real board as far as tune can tell (here qemu behind sshd)
    tuning = json.loads((tuning_dir(bundle) / "rpi4.json").read_text())
    assert tuning["machine"] == report.data["board_info"]["machine_key"] and "1" in tuning["choices"]
