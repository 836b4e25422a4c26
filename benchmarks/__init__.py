"""Runnable benchmarks: `make bench` (or `python -m benchmarks [--quick] [names...]`) prints their figures."""
