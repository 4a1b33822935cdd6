"""The hand-label check of a real multi-person clip (bench/labels): matching detections to
labels, and the verdict when an influencer mixes two labelled people."""

import numpy as np
import pandas as pd

from bench.evaluate import LABELS_DIR, clip_purity, label_by_centre, read_clip_labels
from bench.real import labelled_purity, real_verdict
from bench.render import verdict_lines

OBAMA_OK = {
    1: {
        "face2face-demo__obama.mp4": 5,
        "facerec_armbiantest__obama.mp4": 5,
        "hieubkvn123__obama.mp4": 5,
        "emotion-morphing__obama.mp4": 5,
    }
}


def test_simplefr_labels_name_the_six_family_members_of_info_csv():
    labels = read_clip_labels(LABELS_DIR / "SimpleFR__Video_2.csv")
    people = [p for rows in labels.values() for *_, p in rows]
    assert set(people) == {"Eddie", "Evan", "Emery", "Louis", "Jessica", "Grandma"}
    assert len(people) >= 100
    assert min(people.count(p) for p in set(people)) >= 5


def test_a_box_takes_the_label_whose_centre_it_holds_in_the_same_frame():
    labels = {10: [(100.0, 100.0, "A"), (300.0, 100.0, "B")]}
    assert label_by_centre(labels, 10, (60, 60, 140, 140)) == "A"
    assert label_by_centre(labels, 10, (250, 50, 350, 150)) == "B"
    assert label_by_centre(labels, 11, (60, 60, 140, 140)) is None  # other frame
    assert label_by_centre(labels, 10, (150, 50, 250, 150)) is None  # no centre inside
    # a box over both centres: the one nearer its own centre
    assert label_by_centre(labels, 10, (80, 50, 400, 150)) == "B"


def test_a_face_off_the_labelled_grid_needs_the_labelled_frames_around_it_to_agree():
    labels = {10: [(100.0, 100.0, "A")], 20: [(100.0, 100.0, "A")], 30: [(100.0, 100.0, "B")]}
    box = (60, 60, 140, 140)
    assert label_by_centre(labels, 13, box, max_apart=8) == "A"  # 10 and 20 agree
    assert label_by_centre(labels, 13, box, max_apart=2) is None  # none in reach
    assert label_by_centre(labels, 8, box, max_apart=4) == "A"  # one side in reach
    assert label_by_centre(labels, 25, box, max_apart=8) is None  # a cut: A before, B after


def test_purity_flags_an_influencer_with_two_people_and_ignores_unassigned_faces():
    labels = {1: [(50.0, 50.0, "A"), (150.0, 50.0, "B")], 2: [(50.0, 50.0, "A")]}
    a1, b1, a2 = (1, 0, 0, 100, 100), (1, 100, 0, 200, 100), (2, 0, 0, 100, 100)
    ok = clip_purity(labels, [(*a1, 1), (*b1, 2), (*a2, 1)])
    assert ok.mixed == [] and ok.bcubed == (1.0, 1.0, 1.0) and ok.n_labelled == 3
    left_out = clip_purity(labels, [(*a1, 1), (*b1, -1), (*a2, 1)])
    assert left_out.mixed == [] and left_out.bcubed[0] == 1.0
    merged = clip_purity(labels, [(*a1, 1), (*b1, 1), (*a2, 1)])
    assert merged.mixed == [1] and merged.by_influencer == {1: {"A": 2, "B": 1}}
    assert merged.bcubed[0] < 1.0


def faces_at(points: list[tuple[int, float, float]]) -> pd.DataFrame:
    """Detections of SimpleFR, a 40 px box around each (frame, centre x, centre y)."""
    return pd.DataFrame(
        [
            {
                "source_url": "/x/SimpleFR__Video_2.mp4",
                "frame_index": f,
                "x1": x - 20,
                "y1": y - 20,
                "x2": x + 20,
                "y2": y + 20,
            }
            for f, x, y in points
        ]
    )


def test_the_real_verdict_fails_when_a_labelled_clip_mixes_people():
    labels = read_clip_labels(LABELS_DIR / "SimpleFR__Video_2.csv")
    fi, rows = next(iter(labels.items()))
    cx, cy, person = rows[0]
    clean = labelled_purity(faces_at([(fi, cx, cy), (fi, cx, cy)]), np.array([7, 7]))
    assert real_verdict(OBAMA_OK, clean).ok is True
    # a second labelled person in influencer 7: another frame's label
    fi2, (cx2, cy2, _) = next((f, r[0]) for f, r in labels.items() if r[0][2] != person)
    mixed = labelled_purity(faces_at([(fi, cx, cy), (fi2, cx2, cy2)]), np.array([7, 7]))
    v = real_verdict(OBAMA_OK, mixed)
    assert not v.ok and v.obama_ok and v.bad == [] and v.mixed == [("SimpleFR__Video_2.mp4", [7])]
    assert any("WRONG MERGE" in line for line in verdict_lines(v))
