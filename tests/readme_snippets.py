"""The README's ```python blocks, for the tests that run each as written."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_python(naming: str) -> str:
    """The README's ```python block that opens `naming`. There are two, each run by a test: the MNIST one here, the
    PaddleOCR one in test_real_models.py."""
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert len(blocks) == 2, "README.md holds two ```python blocks, each run by a test; a new one needs its test"
    found = [b for b in blocks if naming in b]
    assert len(found) == 1, f"one README python block opens {naming}"
    return found[0]
