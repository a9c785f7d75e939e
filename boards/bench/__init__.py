"""`paddle-edge bench`: latency, throughput, memory and size of one bundle on every engine that can run it, side by side."""
