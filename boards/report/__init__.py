"""`paddle-edge report RUN_DIR`: one self-contained HTML page, and the JSON behind it, from a run's parity, predictions and bench files."""
