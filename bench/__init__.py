"""Benchmarks: `python -m bench NAME` prints one `metric=value unit` line per figure."""
