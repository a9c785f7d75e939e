"""Deploy over SSH for real: a Debian sshd on 127.0.0.1 with a throwaway key, whose logins run the emulated rpi4's python."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from paddle_edge.boards.board_run import board_for
from paddle_edge.boards.deploy import deploy
from paddle_edge.boards.profile import get_profile
from paddle_edge.boards.ssh import SshBoard, SshError, SshTarget
from paddle_edge.export.debian_rootfs import debian_tool

pytestmark = pytest.mark.board


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
    port = _free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        f"PidFile {folder / 'sshd.pid'}", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "AllowUsers root",
        "Subsystem sftp /usr/lib/openssh/sftp-server", ""]))  # as in Debian's stock sshd_config: scp speaks SFTP
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


def test_deploy_ships_installs_and_checks(board_login, lenet_bundle):
    report = deploy(lenet_bundle.archive, get_profile("rpi4"), board_login, limit=1000, calls=5)
    print(report.render())
    assert report.ok, report.render()
    info = report.data["board_info"]
    assert info["machine"] == "aarch64" and info["paddle_importable"] is False
    assert "paddle-edge-runtime 0.1.0" in report.data["installed"] and "onnxruntime 1.24.1" in report.data["installed"]
    home = Path(board_login.remote_dir)
    assert (home / "bundles" / "lenet" / "manifest.json").is_file() and (home / "venv" / "pyvenv.cfg").is_file()
    assert not list(home.glob("incoming.*")) and not list((home / "bundles").glob("*.new"))


def test_a_refused_connection_names_the_problem(board_login, lenet_bundle):
    closed = SshTarget(**{**board_login.__dict__, "port": _free_port(), "connect_timeout": 3})
    with pytest.raises(SshError, match="cannot reach root@127.0.0.1 on port"):
        deploy(lenet_bundle.archive, get_profile("rpi4"), closed)


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
