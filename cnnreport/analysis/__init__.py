"""Computations the chapters' verdicts rest on, kept in the library so each has one tested
copy: one module per topic."""
