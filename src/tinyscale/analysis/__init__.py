"""Analyses: per-run metrics, power laws, the tables of each study, the original's released runs."""
