"""The browser as a board: headless Chromium from Debian runs the bundle's ONNX files with onnxruntime-web (wasm, and its
WebGPU and WebGL backends where the browser offers them) and Paddle.js models in a page served from this host, and the
results come back to Python for the same checks as the emulated boards."""
