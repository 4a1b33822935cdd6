"""Extraction on a Ray cluster: ``ingest run --engine ray [--address ADDR]``.

The per-video work (``ingest.pipeline.process.process_row``: fetch, cached extraction) is mapped over
Ray actors, one per worker, each loading the models once (``ingest.extract.faces._models`` keeps them
per process). Outcomes come back in CSV order to the one process that writes DuckDB, so the
warehouse, statuses, progress bar and caches are those of the local engine. Clustering, dbt and
the report stay on the driver.

On several machines each worker fetches its videos itself: URLs (http, or paths on a
filesystem every node mounts at the same place) must resolve there, and each node keeps its
own download and extraction cache under ``--cache-dir``, or where NODE_CACHE_ENV says in the
environment the node was started with (docs/scale.md).

Ray is optional (``make install-ray``); without it this engine is a setup error."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.errors import IngestError
from ingest.pipeline.csvin import VideoRow
from ingest.pipeline.process import process_row
from ingest.settings import Settings

# Set in a node's environment (`INFLUENCER_LENS_CACHE_DIR=/scratch/cache ray start ...`): that
# node's download and extraction cache, on its own disk, whatever --cache-dir the driver has.
NODE_CACHE_ENV = "INFLUENCER_LENS_CACHE_DIR"


class RayUnavailable(IngestError, RuntimeError):
    """Ray is not installed or the cluster cannot be reached: a setup problem."""


def ray_engine(settings: Settings) -> Callable[[list[VideoRow], Settings, Path], Iterator]:
    """Connect to the cluster now (a setup error is raised before anything is written) and
    return a function that maps rows to Outcomes like ``ingest.pipeline.runner._outcomes``."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(
            "--engine ray needs Ray: run `make install-ray` (or pip install 'influencer-lens[ray]')"
        ) from exc
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=settings.ray_address,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env=worker_env(),
            )
        except Exception as exc:
            raise RayUnavailable(
                f"cannot start or reach a Ray cluster at {settings.ray_address or 'a new local one'}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def outcomes(rows: list[VideoRow], s: Settings, base_dir: Path) -> Iterator:
        try:
            yield from _map(ray, rows, s, base_dir)
        finally:
            if started_here:
                ray.shutdown()

    return outcomes


def worker_env() -> dict:
    """A runtime_env under which workers import this very ``ingest`` (a checkout, not
    whichever copy their Python finds first). On other machines the path must hold the same
    code, or the package be installed there (docs/scale.md)."""
    import os

    import ingest

    root = str(Path(ingest.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


def node_settings(s: Settings) -> Settings:
    """The settings as the node this runs on applies them: its own cache directory when it was
    started with NODE_CACHE_ENV, else the driver's --cache-dir."""
    local = os.environ.get(NODE_CACHE_ENV)
    return dataclasses.replace(s, cache_dir=Path(local)) if local else s


def n_actors(settings_workers: int | None, cluster_cpus: float) -> int:
    """--workers when given, else one actor per CPU of the cluster."""
    return settings_workers if settings_workers else max(1, int(cluster_cpus))


def _map(ray, rows: list[VideoRow], s: Settings, base_dir: Path) -> Iterator:
    from ray.util import ActorPool

    @ray.remote(num_cpus=1)
    class Extractor:
        def process(self, row: VideoRow):
            # The faces travel back with the outcome: the writer may be on another machine
            # than this actor's extraction cache.
            return process_row(row, node_settings(s), base_dir).with_faces()

    k = min(len(rows), n_actors(s.workers, ray.cluster_resources().get("CPU", 1)))
    if k == 0:
        return
    actors = [Extractor.remote() for _ in range(k)]
    try:
        # Ordered: the warehouse is written in CSV order, as by the local engine.
        yield from ActorPool(actors).map(lambda a, r: a.process.remote(r), rows)
    finally:
        for a in actors:
            ray.kill(a)
