"""Synthesize labelled short videos from a folder of face photos (``<root>/<Identity>/*.jpg``).

Three recipes. "studio" (the first): each video has 1-3 shots; a person's photo moves and zooms through a shot over a coloured
background, a two-person video shows both side by side (stacked in vertical frames), a
"separate-shots" video shows two people one after the other, never together, and face-free
"product shots" fill the rest. A person's videos use different photos (different days,
poses, lighting). "edited" cuts like real short videos: 2-4 people shots, each with another
photo of the person under another light (gain, colour cast, mirrored), at scales from
head-and-shoulders to a small figure placed anywhere in the frame, duos who appear together
and alone across several shots, product shots between them, and degraded frames (heavy JPEG
compression, downscaled then upscaled) at phone sizes up to 1080x1920. "phone" is the edited recipe shot on a cheap phone: the
same cuts, with motion blur on every people shot (a hand-held camera), at the sizes and compression
its SynthConfig gives (bench/corpora.py PHONE: 854x480, faces of 30-80 px, JPEG quality
12-25). Files are written without extension, as the users' URLs are. The truth says
who is where in every frame, and each video's score.

Outputs in ``out_dir``: ``videos/<name>`` (mp4 without extension), ``videos.csv``
(``Performance,Video URL`` with paths relative to the CSV), ``truth_videos.csv``
(file, score, orientation, people), ``truth_boxes.csv`` (file, frame_index, identity, face
box x1..y2 in frame pixels, from MTCNN on the source photo) and ``truth_photos.csv``
(identity, photo file name: the photos the videos show)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

FPS = 10.0  # frames per second of synthesized videos


@dataclass(frozen=True)
class SynthConfig:
    # "studio": the first recipe (a seed gives the corpus it always gave); "edited": cut like
    # real short videos (module docstring), with the edited_* settings below; "phone": edited,
    # plus motion blur (phone_blur_px).
    recipe: Literal["studio", "edited", "phone"] = "studio"
    n_videos: int = 100
    n_identities: int = 30
    n_two_person: int = 9  # videos with two people on screen together
    n_empty: int = 15  # videos with nobody (product shots only)
    # Videos with two people in separate shots, never on screen together: only a threshold
    # keeps them apart within the video (no same-frame cannot-link). With ``lookalikes`` given
    # to synthesize, the two are look-alikes and so is the whole roster.
    n_separate: int = 0
    seed: int = 0
    min_duration_s: float = 4.0
    max_duration_s: float = 8.0
    vertical_share: float = 0.5  # share of videos in 9:16
    short_side_px: int = 540  # frame size: 540x960 or 960x540 (qHD, like phone ads)
    min_photos: int = 5  # identities with fewer photos are not used
    # "edited" only.
    edited_shots: tuple[int, int] = (2, 4)  # people shots per video, inclusive
    edited_product_share: float = 0.5  # chance of a product shot between two people shots
    # Photo side as a share of the frame's short side: one person, and each of two on screen.
    edited_solo_share: tuple[float, float] = (0.35, 0.9)
    edited_duo_share: tuple[float, float] = (0.3, 0.5)
    edited_short_sides_px: tuple[int, ...] = (480, 540, 720)  # frame sizes besides phone size
    edited_phone_share: float = 0.3  # share of vertical videos at 1080x1920
    edited_jpeg_quality: tuple[int, int] = (15, 60)  # per video, every frame re-encoded
    edited_rescale_share: float = 0.5  # share of videos downscaled then upscaled
    edited_rescale: tuple[float, float] = (0.35, 0.6)  # the downscale factor
    # "phone" only: pixels, the length of a shot's motion-blur streak (inclusive range; one
    # direction a shot, as a hand moves the camera).
    phone_blur_px: tuple[int, int] = (3, 9)
    # A planted creative effect (the "What works" check, bench/creative.py). Each video with
    # people opens on a face-free shot of a whole number of seconds drawn from this range
    # (inclusive; (0, 0): none), so the first face comes at varied times; a video whose first
    # face is on screen within hook_seconds scores hook_effect more. Drawn from a generator of
    # their own: with both off a seed gives the corpus it always gave.
    hook_lead_in_s: tuple[int, int] = (0, 0)
    hook_effect: float = 0.0
    hook_seconds: float = 2.0


@dataclass
class TruthVideo:
    name: str
    score: float
    orientation: str
    people: list[str]
    first_face_s: float | None = None  # when the first face comes on screen; None: never


def list_identities(faces_dir: Path, min_photos: int) -> dict[str, list[Path]]:
    out = {}
    for d in sorted(p for p in faces_dir.iterdir() if p.is_dir()):
        photos = sorted(d.glob("*.jpg"))
        if len(photos) >= min_photos:
            out[d.name] = photos
    if not out:
        raise FileNotFoundError(f"no identity folders with >= {min_photos} photos in {faces_dir}")
    return out


def _roster(
    names: list[str], n: int, lookalikes: dict[str, list[str]] | None, rng: np.random.Generator
) -> list[str]:
    """n identities: random, or (with lookalikes) in pairs, each random pick joined by the
    nearest look-alike not yet chosen, so across videos too the people to tell apart are
    hard ones."""
    if lookalikes is None:
        return [names[i] for i in sorted(rng.choice(len(names), n, replace=False))]
    chosen: list[str] = []
    for i in rng.permutation(len(names)):
        if len(chosen) == n:
            break
        if names[i] in chosen:
            continue
        chosen.append(names[i])
        mate = next(
            (m for m in lookalikes.get(names[i], []) if m in names and m not in chosen), None
        )
        if mate is not None and len(chosen) < n:
            chosen.append(mate)
    return sorted(chosen)


def _separate_pairs(
    cfg: SynthConfig,
    ids: list[str],
    lookalikes: dict[str, list[str]] | None,
    rng: np.random.Generator,
) -> list[list[str]]:
    """People of the separate-shots videos: a random person and, with lookalikes, the
    nearest look-alike in the roster (else another random person)."""
    if cfg.n_separate and len(ids) < 2:
        raise ValueError("separate-shots videos need at least two identities")
    out = []
    for _ in range(cfg.n_separate):
        a = ids[int(rng.integers(len(ids)))]
        mates = [m for m in (lookalikes or {}).get(a, []) if m in ids and m != a]
        b = (
            mates[0]
            if mates
            else ids[(ids.index(a) + 1 + int(rng.integers(len(ids) - 1))) % len(ids)]
        )
        out.append([a, b])
    return out


def _assign_people(cfg: SynthConfig, ids: list[str], rng: np.random.Generator) -> list[list[str]]:
    """People per video: every chosen identity appears at least once; the rest of the
    appearances follow a skewed popularity, as real influencer rosters do. Separate-shots
    videos are left out here and added by the caller."""
    n_people_videos = cfg.n_videos - cfg.n_empty - cfg.n_separate
    if n_people_videos < 0 or cfg.n_two_person > n_people_videos:
        raise ValueError("n_empty + n_two_person do not fit in n_videos")
    slots = n_people_videos + cfg.n_two_person
    if slots < len(ids):
        raise ValueError(f"{slots} appearances cannot cover {len(ids)} identities")
    weights = 1.0 / np.arange(1, len(ids) + 1) ** 0.7
    weights /= weights.sum()
    extra = rng.choice(len(ids), size=slots - len(ids), p=weights)
    pool = list(range(len(ids))) + list(extra)
    rng.shuffle(pool)
    videos: list[list[str]] = []
    two = set(rng.choice(n_people_videos, size=cfg.n_two_person, replace=False).tolist())
    for v in range(n_people_videos):
        first = pool.pop()
        people = [first]
        if v in two:
            j = next((k for k in range(len(pool)) if pool[k] != first), None)
            second = pool.pop(j) if j is not None else (first + 1) % len(ids)
            people.append(second)
        videos.append([ids[p] for p in people])
    videos += [[] for _ in range(cfg.n_empty)]
    order = rng.permutation(len(videos))
    return [videos[i] for i in order]


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    c1, c2 = rng.integers(20, 235, size=3), rng.integers(20, 235, size=3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    bg = (c1 * (1 - t) + c2 * t).astype(np.float32)
    return np.broadcast_to(bg, (h, w, 3)).copy()


def _product_shot(h: int, w: int, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A face-free shot: shapes drifting over a gradient (stands in for product footage)."""
    bg = _background(h, w, rng)
    shapes = [
        (rng.integers(0, w), rng.integers(0, h), rng.integers(20, 90), rng.integers(0, 255, 3))
        for _ in range(4)
    ]
    frames = []
    bg8 = bg.astype(np.uint8)
    for i in range(n):
        f = bg8.copy()
        for x, y, r, col in shapes:
            cx, cy = int(x + 3 * i) % w, int(y + 2 * i) % h
            cv2.rectangle(f, (cx - r, cy - r // 2), (cx + r, cy + r // 2), col.tolist(), -1)
            cv2.circle(f, (cx, cy - r), r // 2, (255 - col).tolist(), -1)
        frames.append(f)
    return frames


def _people_shot(
    h: int,
    w: int,
    n: int,
    photos: list[tuple[str, np.ndarray]],
    rng: np.random.Generator,
    share: tuple[float, float] | None = None,
) -> tuple[list[np.ndarray], list[list[tuple[str, int, int, int, int]]]]:
    """``share``: the photo side's range as a share of the frame's short side, each photo
    placed anywhere it fits (the edited recipe); None: the studio recipe's sizes and slots."""
    bg = _background(h, w, rng)
    k = len(photos)
    vertical = h > w
    # Photo size: a share of the frame so faces land at ~80-180 px, like phone footage.
    base = (w if vertical else h) * (0.85 if k == 1 else 0.55)
    motions = []
    for j, (name, img) in enumerate(photos):
        if share is None:
            s0, s1 = base * rng.uniform(0.75, 1.0), base * rng.uniform(0.75, 1.0)
        else:
            s0, s1 = rng.uniform(*share, 2) * min(w, h)
        if vertical:
            cx = w / 2
            cy = h * ((j + 0.5) / k)
        else:
            cx = w * ((j + 0.5) / k)
            cy = h / 2
        if share is not None:
            # Anywhere along the free axis within the photo's slot: a small figure is rarely
            # centred. The slot keeps two people on screen from covering each other.
            big = max(s0, s1)
            lo, hi = (big / 2, w - big / 2) if vertical else (big / 2, h - big / 2)
            free = rng.uniform(lo, max(lo, hi))
            cx, cy = (free, cy) if vertical else (cx, free)
        dx, dy = rng.uniform(-0.08, 0.08, 2) * min(w, h)
        motions.append((name, img, s0, s1, cx, cy, dx, dy))
    frames, rects = [], []
    # Truncated to bytes once: only the photo's square changes from frame to frame.
    bg8 = bg.astype(np.uint8)
    for i in range(n):
        t = i / max(n - 1, 1)
        f = bg8.copy()
        fr = []
        for name, img, s0, s1, cx, cy, dx, dy in motions:
            side = int(s0 + (s1 - s0) * t)
            x1 = int(cx + dx * (t - 0.5) - side / 2)
            y1 = int(cy + dy * (t - 0.5) - side / 2)
            x1, y1 = max(0, min(w - side, x1)), max(0, min(h - side, y1))
            patch = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
            gain = 1.0 + 0.1 * np.sin(2 * np.pi * t)  # lighting drift
            f[y1 : y1 + side, x1 : x1 + side] = np.clip(patch.astype(np.float32) * gain, 0, 255)
            fr.append((name, x1, y1, x1 + side, y1 + side))
        frames.append(f)
        rects.append(fr)
    return frames, rects


_BOXES: dict[str, np.ndarray | None] = {}  # photo path -> _PhotoFaces' answer, per process


class _PhotoFaces:
    """Face box of a photo by MTCNN (RGB), None unless exactly one clear face."""

    UPSCALE = 2.0  # photos are checked at about the size they are shown in a video
    PAD = 0.2  # share of the photo side added as black border in the padded looks

    def __init__(self) -> None:
        from ingest.extract.detect import MtcnnDetector
        from ingest.settings import DetectionSettings

        self.detector = MtcnnDetector(DetectionSettings())

    def _faces(self, rgb: np.ndarray, pad: float, scale: float) -> list:
        p = int(round(pad * rgb.shape[0]))
        img = cv2.copyMakeBorder(rgb, p, p, p, p, cv2.BORDER_CONSTANT, value=0) if p else rgb
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        return [(d.box / scale - p) for d in self.detector.detect([img], 2000)[0] if d.score > 0.8]

    def __call__(self, bgr: np.ndarray) -> np.ndarray | None:
        # A bystander the truth does not name would count against the pipeline when it finds
        # them, so a photo is used only if every look sees one face: enlarged to about the size
        # it is shown in a video (at its own 250 px MTCNN misses half-cut or blurred faces),
        # and with a black border at two sizes (a face cut by the photo edge is found once the
        # edge is not the image edge, as happens when a shot pans the photo inside the frame).
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        looks = [
            self._faces(rgb, 0.0, self.UPSCALE),
            self._faces(rgb, self.PAD, self.UPSCALE),
            self._faces(rgb, self.PAD, 1.0),
        ]
        if any(len(found) != 1 for found in looks):
            return None
        return looks[0][0]


def _new_look(
    img: np.ndarray, box: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Another take of a photo: mirrored half the time (a selfie camera), another exposure and
    colour cast (another light between takes). (BGR photo, its face box (4,) moved along)."""
    if rng.random() < 0.5:
        img = img[:, ::-1]
        box = np.array([img.shape[1] - box[2], box[1], img.shape[1] - box[0], box[3]])
    gain = rng.uniform(0.7, 1.3)
    cast = rng.uniform(-20, 20, 3)
    out = np.clip(img.astype(np.float32) * gain + cast, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out), box


def _motion_blur(frames: list[np.ndarray], length: int, angle: float) -> list[np.ndarray]:
    """Each frame smeared along one direction over ``length`` pixels (degrees ``angle``)."""
    if length < 2:
        return frames
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    kernel /= max(float(kernel.sum()), 1e-6)
    return [cv2.filter2D(f, -1, kernel) for f in frames]


def _degrade(frames: list[np.ndarray], quality: int, rescale: float | None) -> list[np.ndarray]:
    """What uploads do to footage: downscaled then upscaled (``rescale``: the factor, None: not),
    then re-encoded as JPEG at ``quality`` (the codec's blocks and smeared detail)."""
    out = []
    for f in frames:
        if rescale is not None:
            h, w = f.shape[:2]
            small = cv2.resize(
                f, (int(w * rescale), int(h * rescale)), interpolation=cv2.INTER_AREA
            )
            f = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        ok, buf = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        out.append(cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else f)
    return out


@dataclass(frozen=True)
class _Shot:
    n_frames: int
    on_screen: list[str]  # [] = a product shot
    share: tuple[float, float] | None = None  # _people_shot's; None: the studio recipe's
    new_look: bool = False  # _new_look on each photo


def _studio_plan(
    cfg: SynthConfig, people: list[str], apart: bool, rng: np.random.Generator
) -> tuple[int, int, list[_Shot]]:
    """(height, width, shots) of one studio video; the rng calls of the first recipe, in order."""
    vertical = rng.random() < cfg.vertical_share
    ss = cfg.short_side_px
    h, w = (ss * 16 // 9, ss) if vertical else (ss, ss * 16 // 9)
    duration = rng.uniform(cfg.min_duration_s, cfg.max_duration_s)
    n_frames = int(duration * FPS)
    n_shots = int(rng.integers(2, 4)) if apart else int(rng.integers(1, 4))
    cuts = np.linspace(0, n_frames, n_shots + 1).astype(int)
    product_shot = int(rng.integers(0, n_shots)) if (people and n_shots > 1 + apart) else -1
    shots, turn = [], 0  # separate-shots videos: whose shot is next
    for s in range(n_shots):
        n = int(cuts[s + 1] - cuts[s])
        if not people or s == product_shot:
            shots.append(_Shot(n, []))
            continue
        shots.append(_Shot(n, [people[turn % 2]] if apart else list(people)))
        turn += 1
    return h, w, shots


def _edited_plan(
    cfg: SynthConfig, people: list[str], rng: np.random.Generator
) -> tuple[int, int, list[_Shot]]:
    """(height, width, shots) of one edited video: 2-4 people shots, a product shot between two
    of them at edited_product_share, a duo together in the first shot and then together or
    one alone, each of the two in at least two shots."""
    vertical = rng.random() < cfg.vertical_share
    if vertical and rng.random() < cfg.edited_phone_share:
        h, w = 1920, 1080
    else:
        ss = int(rng.choice(cfg.edited_short_sides_px))
        h, w = (ss * 16 // 9, ss) if vertical else (ss, ss * 16 // 9)
    lo, hi = cfg.edited_shots
    n_people = int(rng.integers(lo, hi + 1))
    if not people:
        casts: list[list[str]] = [[] for _ in range(max(1, n_people - 1))]
    elif len(people) == 1:
        casts = [list(people) for _ in range(n_people)]
    else:
        a, b = people
        casts = [[a, b]] + [[[a, b], [a], [b]][int(rng.integers(3))] for _ in range(n_people - 1)]
        if sum(a in c for c in casts) < 2 or sum(b in c for c in casts) < 2:
            casts[-1] = [a, b]
    plan: list[list[str]] = []
    for i, cast in enumerate(casts):
        if i and people and rng.random() < cfg.edited_product_share:
            plan.append([])
        plan.append(cast)
    # Shot lengths vary (a short cut-in beside a long talking shot); at least a second each.
    weights = rng.uniform(0.5, 1.5, len(plan))
    lengths = [
        max(
            int(FPS),
            int(rng.uniform(cfg.min_duration_s, cfg.max_duration_s) * FPS * x / weights.sum()),
        )
        for x in weights
    ]
    shots = [
        _Shot(n, cast, cfg.edited_solo_share if len(cast) == 1 else cfg.edited_duo_share, True)
        for n, cast in zip(lengths, plan)
    ]
    return h, w, shots


def synthesize(
    faces_dir: Path, out_dir: Path, cfg: SynthConfig, lookalikes: dict[str, list[str]] | None = None
) -> list[TruthVideo]:
    """Write the corpus (see module docstring) and return the per-video truth.

    ``lookalikes``: identity -> other identities, most alike first (bench/lookalikes.py).
    Without it (and with n_separate 0) a seed gives the same corpus as before it existed."""
    if cfg.recipe not in ("studio", "edited", "phone"):
        raise ValueError(f"unknown corpus recipe {cfg.recipe!r}: studio, edited or phone")
    rng = np.random.default_rng(cfg.seed)
    identities = list_identities(faces_dir, cfg.min_photos)
    names = sorted(identities)
    if cfg.n_identities > len(names):
        raise ValueError(f"asked for {cfg.n_identities} identities, {faces_dir} has {len(names)}")
    chosen = _roster(names, cfg.n_identities, lookalikes, rng)
    per_video = _assign_people(cfg, chosen, rng)
    separate: set[int] = set()
    if cfg.n_separate:
        # Spread among the others at random positions; the people videos keep their order.
        for people in _separate_pairs(cfg, chosen, lookalikes, rng):
            at = int(rng.integers(len(per_video) + 1))
            separate = {i + (i >= at) for i in separate} | {at}
            per_video.insert(at, people)
    effect = {p: float(rng.normal(0, 0.5)) for p in chosen}
    photo_pool = {p: list(rng.permutation(identities[p])) for p in chosen}

    face_box = _PhotoFaces()
    used: set[tuple[str, str]] = set()  # (person, photo file name): for truth_photos.csv

    def next_photo(person: str) -> tuple[np.ndarray, np.ndarray]:
        """(BGR photo, its one face box (4,)). Photos with no clear face or with a second face
        (a bystander) are skipped, so the truth names every face a detector can find."""
        pool = photo_pool[person]
        for _ in range(len(pool)):
            path = pool.pop(0)
            pool.append(path)  # cycle: people in many videos reuse photos only after all are used
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if str(path) not in _BOXES:  # three MTCNN passes a photo: most of synthesis
                _BOXES[str(path)] = face_box(img) if img is not None else None
            box = _BOXES[str(path)]
            if box is not None:
                used.add((person, path.name))
                return img, box
        raise ValueError(f"no usable photo of {person}")

    hook_rng = np.random.default_rng([cfg.seed, 41])  # the planted effect's draws only
    blur_rng = np.random.default_rng([cfg.seed, 43])  # the phone recipe's blur only
    vdir = out_dir / "videos"
    vdir.mkdir(parents=True, exist_ok=True)
    truth: list[TruthVideo] = []
    box_rows: list[tuple] = []
    for v, people in enumerate(per_video):
        name = f"clip_{cfg.seed}_{v:03d}"
        if cfg.recipe in ("edited", "phone"):
            h, w, shots = _edited_plan(cfg, people, rng)
        else:
            h, w, shots = _studio_plan(cfg, people, v in separate, rng)
        vertical = h > w
        frames: list[np.ndarray] = []
        if people and cfg.hook_lead_in_s[1] > 0:
            lo, hi = cfg.hook_lead_in_s
            frames += _product_shot(h, w, int(hook_rng.integers(lo, hi + 1) * FPS), hook_rng)
        first_face_s = None
        for shot in shots:
            n = shot.n_frames
            if not shot.on_screen:
                frames += _product_shot(h, w, n, rng)
                continue
            if first_face_s is None:
                first_face_s = len(frames) / FPS
            photos = [(p, *next_photo(p)) for p in shot.on_screen]
            if shot.new_look:
                photos = [(p, *_new_look(img, box, rng)) for p, img, box in photos]
            fs, rects = _people_shot(h, w, n, [(p, img) for p, img, _ in photos], rng, shot.share)
            if cfg.recipe == "phone":
                # drawn from their own generator: the plan's draws stay those of "edited"
                lo, hi = cfg.phone_blur_px
                fs = _motion_blur(fs, int(blur_rng.integers(lo, hi + 1)), blur_rng.uniform(0, 180))
            for i, fr in enumerate(rects):
                for (person, x1, y1, x2, _y2), (_, img, fbox) in zip(fr, photos):
                    k = (x2 - x1) / img.shape[1]  # photo -> frame scale
                    fx1, fy1, fx2, fy2 = (
                        x1 + fbox[0] * k,
                        y1 + fbox[1] * k,
                        x1 + fbox[2] * k,
                        y1 + fbox[3] * k,
                    )
                    box_rows.append(
                        (
                            name,
                            len(frames) + i,
                            person,
                            round(fx1),
                            round(fy1),
                            round(fx2),
                            round(fy2),
                        )
                    )
            frames += fs
        if cfg.recipe in ("edited", "phone"):
            quality = int(rng.integers(cfg.edited_jpeg_quality[0], cfg.edited_jpeg_quality[1] + 1))
            rescale = (
                float(rng.uniform(*cfg.edited_rescale))
                if rng.random() < cfg.edited_rescale_share
                else None
            )
            frames = _degrade(frames, quality, rescale)
        writer = cv2.VideoWriter(
            str(vdir / (name + ".mp4")), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h)
        )
        for f in frames:
            writer.write(f)  # frames are BGR as cv2.imread gave them
        writer.release()
        (vdir / (name + ".mp4")).rename(vdir / name)  # users' URLs have no extension
        base = 1.5 + (np.mean([effect[p] for p in people]) if people else 0.0)
        score = float(base + rng.normal(0, 0.3))
        if first_face_s is not None and first_face_s <= cfg.hook_seconds:
            score += cfg.hook_effect
        truth.append(
            TruthVideo(
                name,
                round(score, 4),
                "vertical" if vertical else "horizontal",
                people,
                first_face_s,
            )
        )

    with (out_dir / "videos.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["Performance", "Video URL"])
        for t in truth:
            wr.writerow([t.score, f"videos/{t.name}"])
    with (out_dir / "truth_videos.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["file", "score", "orientation", "people", "first_face_s"])
        for t in truth:
            first = "" if t.first_face_s is None else t.first_face_s
            wr.writerow([t.name, t.score, t.orientation, ";".join(t.people), first])
    with (out_dir / "truth_boxes.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["file", "frame_index", "identity", "x1", "y1", "x2", "y2"])
        wr.writerows(box_rows)
    # Which photos the videos show, so tests can use a person's other photos as references.
    with (out_dir / "truth_photos.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["identity", "photo"])
        wr.writerows(sorted(used))
    return truth


def read_truth(out_dir: Path) -> tuple[list[TruthVideo], dict[tuple[str, int], list[tuple]]]:
    """Read back (videos, {(file, frame_index): [(identity, x1, y1, x2, y2), ...]})."""
    videos = []
    with (out_dir / "truth_videos.csv").open() as fh:
        for r in csv.DictReader(fh):
            people = [p for p in r["people"].split(";") if p]
            first = r.get("first_face_s") or None  # absent in corpora written before it
            videos.append(
                TruthVideo(
                    r["file"],
                    float(r["score"]),
                    r["orientation"],
                    people,
                    None if first is None else float(first),
                )
            )
    boxes: dict[tuple[str, int], list[tuple]] = {}
    with (out_dir / "truth_boxes.csv").open() as fh:
        for r in csv.DictReader(fh):
            key = (r["file"], int(r["frame_index"]))
            boxes.setdefault(key, []).append(
                (r["identity"], int(r["x1"]), int(r["y1"]), int(r["x2"]), int(r["y2"]))
            )
    return videos, boxes
