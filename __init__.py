"""paddle-edge: train, compress, export and run PaddlePaddle models on edge boards, with parity against the float model.

The stage packages are train/, compress/, export/, runtime/ and boards/. Importing this package first makes Paddle save
the legacy ProgramDesc format (.pdmodel), which paddle2onnx 1.2.11 and Paddle Lite's opt read; the flag only takes
effect if set before `import paddle`.
"""
import os

__version__ = "0.1.0"

os.environ.setdefault("FLAGS_enable_pir_api", "0")
