import numpy as np

from bench.baseline import greedy_match


def test_greedy_match_joins_the_nearest_known_person_within_tolerance():
    a, b = np.zeros(128), np.full(128, 0.1)  # 1.13 apart
    near_a, near_b = a + 0.03, b - 0.02  # 0.34 from a, 0.23 from b
    assert greedy_match([a, b, near_a, near_b]) == [0, 1, 0, 1]
    assert greedy_match([a, near_a], tolerance=0.3) == [0, 1]  # too far: a new person
    assert greedy_match([]) == []


def test_greedy_match_compares_with_each_persons_first_face_only():
    first, drift = np.zeros(4), np.array([0.5, 0, 0, 0])
    # drift is 0.5 from the first face: joins; 2 x drift is 1.0 away: a new person, although
    # it is only 0.5 from the face before it.
    assert greedy_match([first, drift, 2 * drift]) == [0, 0, 1]
