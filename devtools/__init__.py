"""Helpers for this repository's own tooling (tests and benchmarks); not part of the package."""
