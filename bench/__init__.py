"""Benchmarks for edufed: a realistic generated corpus and scripts that measure indexing and search."""
