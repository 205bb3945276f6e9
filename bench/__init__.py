"""Benchmark of `smoke run` against the floor and against today's manual procedure."""
