"""The real-clip check of `make bench` (../shared/videos): Barack Obama's clips must form one
influencer with nobody else in it, and other people must not merge with each other: across
clips, and within the clips hand-labelled in bench/labels (the six-person family dinner of
SimpleFR). Returns verdicts; bench/render.py words them."""

from __future__ import annotations

import csv as csvmod
import dataclasses
from pathlib import Path

import duckdb
import numpy as np

from bench.calibration import FLOORS, brake_variants, lowest_floor
from bench.corpora import at_floor, cluster, ingest, load_table
from bench.evaluate import LABELS_DIR, ClipPurity, clip_purity, read_clip_labels
from ingest.pipeline.runner import RunSummary
from ingest.settings import Settings

# Clips of one person that must merge, and clip groups allowed to share an influencer.
OBAMA = {
    "facerec_armbiantest__obama.mp4",
    "face2face-demo__obama.mp4",
    "hieubkvn123__obama.mp4",
    "emotion-morphing__obama.mp4",
}
OBAMA_ALLOWED = OBAMA | {"ageitgey__short_hamilton_clip.mp4"}  # he sits in that audience
TRUMP_ALLOWED = {"emotion-morphing__trump.mp4", "sarsalomon__hamilton_clip_pbs_newshour.mp4"}


@dataclasses.dataclass(frozen=True)
class RealVerdict:
    """What the check found in one clustering of the real clips."""

    clips: dict[int, dict[str, int]]  # influencer id -> {clip file name: faces}
    purity: dict[str, ClipPurity]  # labelled clip file name -> its hand-label check
    obama_id: int | None  # the influencer holding most faces of Obama's clips; None: no influencer
    covers: bool  # it holds all of Obama's clips
    pure: bool  # and only clips he is in
    others_with_obama: list[int]  # other influencers with faces in Obama's clips
    bad: list[tuple[int, list[str]]]  # wrong merges across clips: (influencer, its clips)
    mixed: list[tuple[str, list[int]]]  # (labelled clip, influencers mixing its people)

    @property
    def obama_ok(self) -> bool:
        return self.covers and self.pure

    @property
    def ok(self) -> bool:
        return self.obama_ok and not self.bad and not self.mixed

    @property
    def obama_clips(self) -> list[str]:
        return sorted(self.clips[self.obama_id]) if self.obama_id is not None else []

    @property
    def multi(self) -> dict[int, list[str]]:
        """Influencers spanning several clips: id -> clips."""
        return {cid: sorted(d) for cid, d in self.clips.items() if len(d) > 1}


def real_verdict(
    clips: dict[int, dict[str, int]], purity: dict[str, ClipPurity] | None = None
) -> RealVerdict:
    """clips: influencer id -> {clip file name: faces}; purity: clip file name -> its hand-label
    check."""
    purity = purity or {}
    obama_faces = {cid: sum(n for c, n in d.items() if c in OBAMA) for cid, d in clips.items()}
    if not obama_faces:
        return RealVerdict(clips, purity, None, False, False, [], [], [])
    obama_id = max(obama_faces, key=obama_faces.get)
    ob = set(clips[obama_id])
    return RealVerdict(
        clips,
        purity,
        obama_id,
        covers=ob >= OBAMA,
        pure=ob <= OBAMA_ALLOWED,
        others_with_obama=[c for c, d in clips.items() if c != obama_id and set(d) & OBAMA],
        bad=[
            (cid, sorted(d))
            for cid, d in clips.items()
            if cid != obama_id and len(d) >= 2 and not set(d) <= TRUMP_ALLOWED
        ],
        mixed=[(clip, pc.mixed) for clip, pc in purity.items() if pc.mixed],
    )


def clips_of(cluster_id, source_urls) -> dict[int, dict[str, int]]:
    """influencer id -> {clip file name: faces}, from per-face cluster ids (-1 = unassigned)."""
    clips: dict[int, dict[str, int]] = {}
    for k, url in zip(cluster_id, source_urls):
        if k >= 1:
            per = clips.setdefault(int(k), {})
            per[Path(url).name] = per.get(Path(url).name, 0) + 1
    return clips


def labelled_purity(df, cluster_id: np.ndarray) -> dict[str, ClipPurity]:
    """The hand-label check of each labelled clip among the faces; df: source_url, frame_index,
    x1, y1, x2, y2 per face, aligned with cluster_id (-1 = unassigned)."""
    names = np.array([Path(u).name for u in df.source_url])
    out = {}
    for path in sorted(LABELS_DIR.glob("*.csv")):
        clip = path.stem + ".mp4"
        m = names == clip
        if m.any():
            faces = list(
                zip(
                    *(df[c].to_numpy()[m] for c in ("frame_index", "x1", "y1", "x2", "y2")),
                    cluster_id[m],
                )
            )
            out[clip] = clip_purity(read_clip_labels(path), faces)
    return out


def verdict_of(df, cluster_id: np.ndarray) -> RealVerdict:
    """The verdict for per-face cluster ids (-1 = unassigned) of the faces of ``df``."""
    return real_verdict(clips_of(cluster_id, df.source_url), labelled_purity(df, cluster_id))


@dataclasses.dataclass(frozen=True)
class RealRow:
    """One clustering of the real clips, as a row of a comparison table."""

    name: str
    n_faces: int
    verdict: RealVerdict


@dataclasses.dataclass(frozen=True)
class RealCheck:
    n_clips: int
    verdict: RealVerdict  # ingest at the defaults
    summary: RunSummary
    seconds: float  # that ingest's wall time
    brakes: list[RealRow]  # the same faces, each stage-2 brake taken away
    floors: list[RealRow]  # the clips at each swept face-size floor
    lowest_floor: float  # px the floors were extracted at


def real_csv(videos: Path, root: Path) -> tuple[Path, int]:
    """Write the clips' CSV (made-up scores); (path, number of clips)."""
    with (videos / "INFO.csv").open() as fh:
        info = list(csvmod.DictReader(fh))
    root.mkdir(parents=True, exist_ok=True)
    csv = root / "real_videos.csv"
    with csv.open("w", newline="") as fh:
        w = csvmod.writer(fh)
        w.writerow(["Performance", "Video URL"])
        for i, r in enumerate(info):
            w.writerow([1.0 + 0.1 * i, str((videos / r["file"]).resolve())])
    return csv, len(info)


def real_clips(csv: Path, root: Path, settings: Settings) -> tuple[RealVerdict, RunSummary, float]:
    """Ingest the clips at ``settings`` into root/real.duckdb: (verdict, summary, seconds)."""
    db = root / "real.duckdb"
    summary, secs = ingest(csv, db, settings)
    con = duckdb.connect(str(db), read_only=True)
    df = con.execute(
        "select v.source_url, f.frame_index, f.x1, f.y1, f.x2, f.y2, "
        "coalesce(c.cluster_id, -1) as cluster_id from raw.faces f "
        "join raw.videos v using (video_id) left join raw.face_clusters c using (face_id)"
    ).df()
    con.close()
    return verdict_of(df, df.cluster_id.to_numpy()), summary, secs


def real_brakes(root: Path, settings: Settings) -> list[RealRow]:
    """real_clips' faces re-clustered with each stage-2 brake taken away."""
    df, table = load_table(root / "real.duckdb")
    return [
        RealRow(name, len(df), verdict_of(df, cluster(table, v).cluster_id))
        for name, v in brake_variants(settings.cluster)
    ]


def real_floors(csv: Path, root: Path, settings: Settings) -> list[RealRow]:
    """The clips at each swept face-size floor (extracted once at the lowest)."""
    # Own thumbnails folder: the same clips at another floor keep other faces per frame, and
    # their files would overwrite real.duckdb's.
    low = dataclasses.replace(
        settings,
        faces_dir=root / "faces_low_floor",
        detection=dataclasses.replace(settings.detection, min_face_px=lowest_floor(settings)),
    )
    db = root / "real_low_floor.duckdb"
    ingest(csv, db, low)
    df, table = load_table(db)
    rows = []
    for px in FLOORS:
        d, t = at_floor(df, table, px)
        name = f"{px:g}{' (default)' if px == settings.detection.min_face_px else ''}"
        rows.append(RealRow(name, len(d), verdict_of(d, cluster(t, settings.cluster).cluster_id)))
    return rows


def check_real(videos: Path, root: Path, settings: Settings) -> RealCheck:
    """The whole check: the clips at ``settings``, each brake taken away, each floor."""
    print("real clips", flush=True)
    csv, n_clips = real_csv(videos, root)
    verdict, summary, secs = real_clips(csv, root, settings)
    brakes = real_brakes(root, settings)
    print("real clips at each face-size floor", flush=True)
    floors = real_floors(csv, root, settings)
    return RealCheck(n_clips, verdict, summary, secs, brakes, floors, lowest_floor(settings))
