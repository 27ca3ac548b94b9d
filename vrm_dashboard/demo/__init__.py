"""Demo data for `make run`, the tests and the benchmarks. Not a service: it writes rows in
bulk to show the product full, and no business action calls it."""
