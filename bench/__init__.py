"""Benchmarks of the grader: ``python -m bench`` prints the table and writes bench/results.md.

Modules: ``baseline`` (the bare, unisolated baseline), ``notebooks`` (the class of notebooks
generated from ``submissions/``), ``gradscale`` (gradient-check scaling), ``memory`` (peak
RSS of batch processes), ``__main__`` (runs everything and renders the table).
"""
