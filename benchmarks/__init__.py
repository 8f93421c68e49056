"""Benchmarks: ``python3 -m benchmarks.run`` (see benchmarks/README.md)."""
