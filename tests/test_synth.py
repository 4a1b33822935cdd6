"""The corpus synthesizer's people assignment, look-alike ranking, and separate-shots videos."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from bench.lookalikes import centred_similarity, rank_lookalikes
from ingest.demo.synth import SynthConfig, _roster, _separate_pairs, read_truth, synthesize

NAMES = [f"p{i}" for i in range(10)]
# p0-p1, p2-p3, ... are mutual look-alikes.
LOOK = {
    n: [NAMES[i ^ 1]] + [m for m in NAMES if m not in (n, NAMES[i ^ 1])]
    for i, n in enumerate(NAMES)
}


def test_roster_without_lookalikes_is_the_plain_draw():
    # Seeds keep giving the corpora they gave before look-alikes existed.
    a = _roster(NAMES, 4, None, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    assert a == [NAMES[i] for i in sorted(rng.choice(len(NAMES), 4, replace=False))]


def test_roster_with_lookalikes_comes_in_pairs():
    r = _roster(NAMES, 6, LOOK, np.random.default_rng(3))
    assert len(r) == len(set(r)) == 6
    assert all(NAMES[NAMES.index(n) ^ 1] in r for n in r)


def test_separate_pairs_are_lookalikes_in_the_roster():
    roster = ["p0", "p1", "p4", "p5"]
    pairs = _separate_pairs(SynthConfig(n_separate=5), roster, LOOK, np.random.default_rng(0))
    assert len(pairs) == 5
    assert all(b == NAMES[NAMES.index(a) ^ 1] for a, b in pairs)
    plain = _separate_pairs(SynthConfig(n_separate=5), roster, None, np.random.default_rng(0))
    assert all(a != b and {a, b} <= set(roster) for a, b in plain)


def test_rank_lookalikes_orders_by_mean_similarity_over_models():
    # Model 1 says b is nearest to a, model 2 says c, more strongly: the mean picks c.
    s1 = np.array([[1, 0.5, 0.4], [0.5, 1, 0], [0.4, 0, 1]], np.float32)
    s2 = np.array([[1, 0.1, 0.9], [0.1, 1, 0], [0.9, 0, 1]], np.float32)
    assert rank_lookalikes(["a", "b", "c"], [s1, s2])["a"] == ["c", "b"]


def test_centred_similarity_removes_the_shared_direction():
    shared = np.array([10.0, 0, 0], np.float32)
    c = np.stack([shared + [0, 1, 0], shared + [0, -1, 0], shared + [0, 0, 1]]).astype(np.float32)
    s = centred_similarity(c)
    assert s[0, 1] < 0  # opposite once the common part is gone (raw cosine ~0.99)
    assert np.allclose(np.diag(s), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def separate_corpus(shared: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("sep")
    cfg = SynthConfig(
        n_videos=5,
        n_identities=3,
        n_two_person=0,
        n_empty=0,
        n_separate=2,
        seed=5,
        min_duration_s=2.0,
        max_duration_s=3.0,
    )
    names = sorted(p.name for p in (shared / "faces").iterdir() if p.is_dir())
    look = {n: [m for m in names if m != n] for n in names}  # any stand-in ranking
    synthesize(shared / "faces", out, cfg, look)
    return out


def test_separate_shots_videos_never_show_both_people(separate_corpus: Path):
    videos, boxes = read_truth(separate_corpus)
    two = [v for v in videos if len(v.people) == 2]
    assert len(two) == 2
    for v in two:
        frames = {k: b for k, b in boxes.items() if k[0] == v.name}
        assert all(len(b) == 1 for b in frames.values())  # one face per frame
        seen = {b[0][0] for b in frames.values()}
        assert seen == set(v.people)  # each of the two has a shot


@pytest.fixture(scope="module")
def edited_corpus(shared: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("edited")
    cfg = SynthConfig(
        recipe="edited",
        n_videos=4,
        n_identities=2,
        n_two_person=2,
        n_empty=1,
        seed=21,
        vertical_share=1.0,
        edited_phone_share=1.0,
        edited_product_share=1.0,
        min_duration_s=4.0,
        max_duration_s=5.0,
    )
    synthesize(shared / "faces", out, cfg)
    return out


def _runs(frames: list[int]) -> int:
    """Runs of consecutive frame indices: the shots a person is in (a cut leaves a gap only
    where a product shot or the other person's shot sits between)."""
    return 1 + sum(b - a > 1 for a, b in itertools.pairwise(frames))


def test_edited_videos_cut_between_shots_at_phone_size(edited_corpus: Path):
    import cv2

    videos, boxes = read_truth(edited_corpus)
    assert sorted(len(v.people) for v in videos) == [0, 1, 2, 2]
    for v in videos:
        cap = cv2.VideoCapture(str(edited_corpus / "videos" / v.name))
        assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
            1080,
            1920,
        )
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        by_person: dict[str, list[int]] = {}
        for (file, fi), faces in boxes.items():
            if file == v.name:
                assert 0 <= fi < n
                for ident, x1, y1, x2, y2 in faces:
                    assert 0 <= x1 < x2 <= 1080 and 0 <= y1 < y2 <= 1920
                    by_person.setdefault(ident, []).append(fi)
        assert set(by_person) == set(v.people)
        # A product shot between every two people shots: each person is in >= 2 shots.
        assert all(_runs(sorted(f)) >= 2 for f in by_person.values())


def test_edited_shots_show_a_person_at_several_sizes(edited_corpus: Path):
    _, boxes = read_truth(edited_corpus)
    sides = {}
    for (file, _), faces in boxes.items():
        for ident, x1, _, x2, _ in faces:
            sides.setdefault((file, ident), []).append(x2 - x1)
    # Shots differ in scale: within a video a person's face size varies by more than the
    # zoom of one shot (0.75-1.0) allows.
    assert any(max(s) / min(s) > 1 / 0.75 for s in sides.values())


def test_an_unknown_recipe_is_refused_before_anything_is_written(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown corpus recipe 'vlog'"):
        synthesize(tmp_path / "no-faces", tmp_path / "out", SynthConfig(recipe="vlog"))  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_a_planted_hook_effect_varies_the_first_face_and_moves_the_score(
    shared: Path, tmp_path: Path
):
    """The same seed with and without the planted effect: the same people and the same draws
    (the lead-ins come from a generator of their own), first faces 0-3 s late, and +1 on the
    score exactly where the first face comes within 2 s."""
    base = SynthConfig(
        n_videos=5,
        n_identities=2,
        n_two_person=0,
        n_empty=1,
        seed=41,
        min_duration_s=2.0,
        max_duration_s=3.0,
    )
    plain = synthesize(shared / "faces", tmp_path / "plain", base)
    planted_cfg = dataclasses.replace(base, hook_lead_in_s=(0, 3), hook_effect=1.0)
    planted = synthesize(shared / "faces", tmp_path / "planted", planted_cfg)
    assert [v.people for v in plain] == [v.people for v in planted]
    firsts = [v.first_face_s for v in planted if v.people]
    assert all(0 <= f <= 3 for f in firsts) and len(set(firsts)) > 1
    assert all(v.first_face_s is None for v in planted if not v.people)
    for p, q in zip(plain, planted):
        hook = q.first_face_s is not None and q.first_face_s <= 2.0
        lead_in = (q.first_face_s or 0) - (p.first_face_s or 0)
        assert q.score - p.score == pytest.approx(1.0 if hook else 0.0, abs=1e-3), (p, q, lead_in)
    assert read_truth(tmp_path / "planted")[0][0].first_face_s == planted[0].first_face_s


def test_phone_videos_are_small_blurred_and_compressed(shared: Path, tmp_path: Path):
    """Issue #50: the phone recipe (bench/corpora.py PHONE) at 854x480 with faces of about
    30-80 px; the same cuts as "edited" with the same seed, each people shot smeared by motion
    blur (less fine detail than the edited frames of the same plan)."""
    import cv2

    from bench.corpora import PHONE

    def made(recipe: str) -> Path:
        cfg = dataclasses.replace(
            PHONE, recipe=recipe, n_videos=3, n_identities=2, n_two_person=1, n_empty=0, seed=7
        )
        out = tmp_path / recipe
        synthesize(shared / "faces", out, cfg)
        return out

    phone, edited = made("phone"), made("edited")
    _, boxes = read_truth(phone)
    heights = sorted(y2 - y1 for faces in boxes.values() for _, _, y1, _, y2 in faces)
    assert 30 <= heights[len(heights) // 2] <= 80, heights
    assert read_truth(edited)[1] == boxes  # the same plan: blur is drawn on its own

    def detail(corpus: Path, name: str, frame: int) -> float:
        cap = cv2.VideoCapture(str(corpus / "videos" / name))
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, img = cap.read()
        h, w = img.shape[:2]
        cap.release()
        assert ok and min(h, w) == 480
        return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    (name, frame), _ = next(iter(boxes.items()))
    assert detail(phone, name, frame) < detail(edited, name, frame)
