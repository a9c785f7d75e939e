"""boards/: where a bundle runs (board profiles, the host and emulated boards) and what is measured there (parity, latency)."""
