"""The runtime on numpy 2 and CPython 3.13: an emulated Raspberry Pi 5 on Debian 13 (trixie) arm64, its own python3."""
from __future__ import annotations

import pytest

from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.board_run import board_for, describe
from paddle_edge.boards.profile import get_profile

pytestmark = pytest.mark.board


def test_the_runtime_gives_the_same_answers_on_numpy_2_and_python_3_13(lenet_bundle):
    board = board_for(get_profile("rpi5-trixie"))
    said = describe(board).split()
    assert said[:2] == ["aarch64", "Python"] and said[2].startswith("3.13.") and said[6].startswith("2."), said
    report = board_parity(board, lenet_bundle.directory, limit=2000, calls=5)
    print(report.render())
    assert report.ok, report.render()
    info = report.data["board_info"]
    assert info["machine"] == "aarch64" and info["python"].startswith("3.13.") and info["paddle_importable"] is False
    assert info["versions"]["numpy"].startswith("2."), info["versions"]
