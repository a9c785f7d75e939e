"""paddle-edge: train, compress, export and run PaddlePaddle models on edge boards, with parity against the float model.

The stage packages are train/, compress/, export/, runtime/ and boards/. Importing this package first makes Paddle save
the legacy ProgramDesc format (.pdmodel), which paddle2onnx 1.2.11 and Paddle Lite's opt read; the flag only takes
effect if set before `import paddle`.
"""
import os
import warnings

__version__ = "0.1.0"

os.environ.setdefault("FLAGS_enable_pir_api", "0")

# Paddle warns on import that ccache is missing; it matters only for compiling C++ extensions, which paddle-edge never does.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
