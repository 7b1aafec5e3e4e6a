"""Benchmarks: each bench_<topic>.py runs alone (python -m bench.bench_<topic>) and prints a table."""
