"""export/: ONNX and Paddle Lite conversion, op checks, and the bundle that runtime/ loads."""
