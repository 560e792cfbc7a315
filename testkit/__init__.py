"""Shared helpers for the tests, the benchmarks and the demo (never shipped in the image).

One module per kind of helper; each helper exists once here instead of a copy per test
file. Installed in development mode by ``scripts/bootstrap`` (``pip install -e testkit``),
so ``import testkit`` works from tests, ``bench/`` scripts and ``scripts/demo`` alike.
"""
