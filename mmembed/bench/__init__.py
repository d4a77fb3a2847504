"""Benchmarks: commands that print figures, measured against baselines in the same run (never timed unit tests)."""
