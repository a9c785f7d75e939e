"""A real board over SSH, with the system's ssh and scp (OpenSSH): no protocol of our own.

Every command runs with BatchMode (never a password prompt) and a connect timeout. A workspace is a fresh
`mktemp -d` folder under the board's paddle-edge folder, removed on the way out whatever happened, so a refused or
dropped connection leaves nothing half-copied there (and the local side is a temporary folder too).
"""
from __future__ import annotations

import contextlib
import dataclasses
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from ..export.debian_rootfs import tail
from ..runtime.errors import PaddleEdgeError
from .profile import BoardProfile
from .workspace import RESULTS

class SshError(PaddleEdgeError):
    """The board could not be reached, or a command there failed."""


@dataclasses.dataclass(frozen=True)
class SshTarget:
    """Where and how to log in, and how to start python there."""

    host: str                       # user@address
    port: int = 22
    identity: Optional[Path] = None
    known_hosts: Optional[Path] = None  # default: the user's own
    remote_dir: str = "~/.paddle-edge"
    remote_python: str = "python3"
    launcher: str = ""              # a prefix for every python run, e.g. "taskset -c 4,5" for the RK3399's big cores
    connect_timeout: int = 10       # seconds, for the TCP connection and the SSH handshake


@dataclasses.dataclass(frozen=True)
class SshBoard:
    """A board reached over SSH whose runtime lives in a venv under `remote_dir` (see deploy.prepare_venv)."""

    profile: BoardProfile
    target: SshTarget
    has_runtime: bool = True
    emulated: bool = False  # a real board, whatever its profile says about emulating it here

    def _options(self) -> List[str]:
        opts = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.target.connect_timeout}", "-o", "ServerAliveInterval=10",
                "-o", "ServerAliveCountMax=3", "-o", "StrictHostKeyChecking=accept-new"]
        if self.target.known_hosts:
            opts += ["-o", f"UserKnownHostsFile={self.target.known_hosts}"]
        if self.target.identity:
            opts += ["-i", str(self.target.identity), "-o", "IdentitiesOnly=yes"]
        return opts

    @property
    def venv_python(self) -> str:
        return f"{self.target.remote_dir}/venv/bin/python"

    def shell(self, command: str, timeout: Optional[float] = 1800, check: bool = True) -> subprocess.CompletedProcess:
        """Run a shell command on the board."""
        cmd = ["ssh", *self._options(), "-p", str(self.target.port), self.target.host, command]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SshError(f"{self.target.host}:{self.target.port} did not answer within {timeout:.0f} s", "check the board is up and reachable") from exc
        if check and proc.returncode == 255:
            raise SshError(f"cannot reach {self.target.host} on port {self.target.port}: {tail(proc, 3)}",
                           "check the address, the port, that sshd runs on the board, and that your key is in its authorized_keys")
        if check and proc.returncode != 0:
            raise SshError(f"`{command[:120]}` failed on {self.target.host} (exit {proc.returncode}):\n{tail(proc)}", "")
        return proc

    def copy(self, sources: Sequence[str], dest: str, timeout: Optional[float] = 1800) -> None:
        """scp -r; host paths are written as `:path`."""
        host = lambda p: f"{self.target.host}:{p[1:]}" if p.startswith(":") else p  # noqa: E731
        cmd = ["scp", "-q", "-r", *self._options(), "-P", str(self.target.port), *map(host, sources), host(dest)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SshError(f"copying to or from {self.target.host} took longer than {timeout:.0f} s", "check the link") from exc
        if proc.returncode != 0:
            raise SshError(f"scp to or from {self.target.host} failed: {tail(proc, 5)}", "check the link and the free space on the board")

    @contextlib.contextmanager
    def workspace(self, local: Path, fetch: Sequence[str] = RESULTS) -> Iterator[str]:
        remote = self.shell(f"mkdir -p {self.target.remote_dir} && mktemp -d {self.target.remote_dir}/incoming.XXXXXX").stdout.strip()
        try:
            self.copy([str(p) for p in sorted(Path(local).iterdir())], f":{remote}/")
            yield remote
            listing = self.shell(f"cd {shlex.quote(remote)} && ls -1 " + " ".join(fetch) + " 2>/dev/null", check=False).stdout.split()
            if listing:
                self.copy([f":{remote}/{name}" for name in listing], str(local) + "/")
        finally:
            self.shell(f"rm -rf {shlex.quote(remote)}", check=False, timeout=60)

    def python(self, args: Sequence[str], python_path: Sequence[str] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess:
        env = f"PYTHONPATH={shlex.quote(':'.join(python_path))} " if python_path else ""
        return self.shell(f"{env}{self.target.launcher} {self.venv_python} " + " ".join(map(shlex.quote, args)), timeout=timeout, check=False)


def have_ssh() -> None:
    """Raise unless OpenSSH's client is installed here."""
    if shutil.which("ssh") is None or shutil.which("scp") is None:
        raise SshError("deploying needs OpenSSH's ssh and scp on this machine", "apt-get install openssh-client")
