"""Benchmarks that a person runs (`python -m bench`, `make bench`); figures go to README."""
