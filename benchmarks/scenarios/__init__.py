"""Benchmark scenarios; each module runs on one flavor per process."""
