import numpy as np

from ingest.extract.video import VideoMeta, sample_frame_indices
from ingest.settings import SamplingSettings


def meta(seconds: float, fps: float = 30.0) -> VideoMeta:
    n = int(seconds * fps)
    return VideoMeta(fps=fps, n_frames=n, width=1280, height=720, duration_s=n / fps)


def test_samples_span_the_whole_video_not_the_first_frames():
    m = meta(60)
    idx = sample_frame_indices(m, SamplingSettings(frames_per_second=2, max_frames=120))
    assert len(idx) == 120
    assert idx[0] < m.fps  # first second
    assert idx[-1] > m.n_frames - m.fps  # last second
    gaps = np.diff(idx)
    assert gaps.min() >= 14 and gaps.max() <= 16  # evenly spaced, ~0.5 s apart


def test_long_video_gets_coarser_grid_over_the_whole_length():
    m = meta(600)
    idx = sample_frame_indices(m, SamplingSettings(frames_per_second=2, max_frames=120))
    assert len(idx) == 120
    assert idx[-1] > m.n_frames * 0.99


def test_short_video_gets_at_least_min_frames_and_never_more_than_exist():
    s = SamplingSettings(frames_per_second=2, min_frames=8)
    assert len(sample_frame_indices(meta(1), s)) == 8
    tiny = VideoMeta(fps=30, n_frames=3, width=10, height=10, duration_s=0.1)
    assert list(sample_frame_indices(tiny, s)) == [0, 1, 2]


def test_empty_video_samples_nothing():
    m = VideoMeta(fps=30, n_frames=0, width=10, height=10, duration_s=0)
    assert len(sample_frame_indices(m, SamplingSettings())) == 0


def test_default_sampling_keeps_one_frame_per_second_on_long_videos():
    for seconds in (9.5, 75, 600):
        m = meta(seconds)
        idx = sample_frame_indices(m, SamplingSettings())
        assert len(idx) >= seconds  # at least one frame per second, end to end
        assert np.diff(idx).max() <= m.fps  # no gap over a second
        assert idx[-1] >= m.n_frames - m.fps


def test_detection_scale_draws_the_floor_face_just_above_mtcnns_smallest():
    from ingest.extract.detect import detection_scale

    # 540x960 synthesized frame, floor 50 px drawn at 25 px: half size.
    assert detection_scale(960, 540, 960, 50.0, 25.0) == 0.5
    # 4K: the longer-side cap binds first.
    assert detection_scale(2160, 3840, 960, 50.0, 25.0) == 0.25
    # A floor already small: never upscaled.
    assert detection_scale(360, 640, 960, 20.0, 25.0) == 1.0
    assert detection_scale(360, 640, 960, 0.0, 25.0) == 1.0
