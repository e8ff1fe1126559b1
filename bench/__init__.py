"""LLaMo's benchmarks, kept out of the library: `python -m bench.<target>`.

Targets: extract, render, chat, train (llamo), app (the web app), store (the annotation store).
Every target warms up, pins and prints its thread count, reports the median and minimum of N
runs and times its baseline in the same process (`bench/_util.py`). docs/benchmarks.md has the
figures measured so far.
"""
