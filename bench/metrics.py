"""Clustering metrics against labelled truth: pure functions, tested by pytest."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _singletons(pred: Sequence[int]) -> list:
    """Unassigned (-1) items count as singleton clusters: leaving a face out costs recall."""
    return [("noise", i) if p < 0 else p for i, p in enumerate(pred)]


def f_beta(precision: float, recall: float, beta: float) -> float:
    """Weighted harmonic mean: recall counts ``beta`` times as much as precision (0.5: half)."""
    b2 = beta * beta
    den = b2 * precision + recall
    return (1 + b2) * precision * recall / den if den else 0.0


def bcubed(truth: Sequence, pred: Sequence[int]) -> tuple[float, float, float]:
    """Item-averaged BCubed precision, recall and F1 (Amigo et al. 2009)."""
    n = len(truth)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = _singletons(pred)
    pair = Counter(zip(truth, p))
    t_size, p_size = Counter(truth), Counter(p)
    prec = sum(pair[(t, c)] / p_size[c] for t, c in zip(truth, p)) / n
    rec = sum(pair[(t, c)] / t_size[t] for t, c in zip(truth, p)) / n
    f = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f


def pairwise_f(truth: Sequence, pred: Sequence[int]) -> float:
    """F1 over pairs of items placed together (counts via contingency table)."""
    p = _singletons(pred)
    pair = Counter(zip(truth, p))
    tp = sum(c * (c - 1) / 2 for c in pair.values())
    pred_pairs = sum(c * (c - 1) / 2 for c in Counter(p).values())
    true_pairs = sum(c * (c - 1) / 2 for c in Counter(truth).values())
    if pred_pairs == 0 or true_pairs == 0:
        return 0.0
    prec, rec = tp / pred_pairs, tp / true_pairs
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


@dataclass
class Report:
    bcubed_p: float
    bcubed_r: float
    bcubed_f: float
    pairwise_f: float
    n_faces_labelled: int
    n_people: int
    n_influencers: int  # clusters holding at least one face of a labelled person
    n_unnamed_clusters: int  # clusters made only of faces the truth does not name (bystanders)
    exact_video_sets: float  # share of people whose predicted video set is exactly right
    score_mae: float  # mean |predicted - true| average score per person (missing people: excluded)
    n_people_missed: int  # people with no cluster at all
    videos_person_no_face: int  # videos with a person on screen but no labelled detected face
    n_videos_with_people: int


def video_level(
    face_truth: Sequence[str],
    face_pred: Sequence[int],
    face_video: Sequence[str],
    true_videos: dict[str, set[str]],
    scores: dict[str, float],
    all_pred_videos: dict[int, set[str]] | None = None,
) -> tuple[float, float, int]:
    """(share of people with their exact video set, mean abs error of their average score,
    people missed). A person's cluster is the one holding most of their faces; its video set is
    every video where that cluster has a face (``all_pred_videos``, from all faces, labelled or
    not), and its average is the mean over those distinct videos."""
    by_person: dict[str, Counter] = defaultdict(Counter)
    for t, p in zip(face_truth, face_pred):
        if p >= 0:
            by_person[t][p] += 1
    if all_pred_videos is None:
        all_pred_videos = defaultdict(set)
        for p, v in zip(face_pred, face_video):
            if p >= 0:
                all_pred_videos[p].add(v)
    exact, errors, missed = 0, [], 0
    for person, vids in true_videos.items():
        if not by_person[person]:
            missed += 1
            continue
        cluster = by_person[person].most_common(1)[0][0]
        pv = all_pred_videos[cluster]
        exact += pv == vids
        errors.append(abs(np.mean([scores[v] for v in pv]) - np.mean([scores[v] for v in vids])))
    n = len(true_videos)
    return (
        exact / n if n else float("nan"),
        float(np.mean(errors)) if errors else float("nan"),
        missed,
    )
