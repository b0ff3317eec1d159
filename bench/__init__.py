"""Benchmarks: latency against the floor, and scale (see bench/run.py)."""
