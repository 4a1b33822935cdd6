"""Faces to people: tracks and influencers (dense and graph clustering), stable ids and the
hand corrections that survive re-runs."""
