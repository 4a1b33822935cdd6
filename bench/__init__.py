"""Labelled benchmark: clustering quality and speed against known truth."""
