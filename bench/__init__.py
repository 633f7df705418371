"""Benchmarks that run peers side by side in one run and report ratios (``make bench``)."""
