"""Build the JUMPS training windows of a split: one cached ``.npz``.

For every clip of the split (``splits.json`` of the mocap root):

1. read it as 3D, 28 joints, 30 fps (:mod:`training.mocap`, cached);
2. optionally scale its bones (``--bone-scale S``) and add its mirror image
   (``--mirror``) (:mod:`training.augment`), and replay it on ``--people K`` new people
   (skeleton and posture mixed from the split's subjects; with ``--mix-motions`` the
   upper body moves as in another clip of the split; :mod:`training.people`);
3. project it with ``--cameras`` random cameras (EVALUATION.md's camera, seeded per
   clip from ``--seed`` and the clip name; ``--focal-jitter`` and ``--distance`` widen
   it);
4. cut 24-frame windows every ``--stride`` frames; the last window is moved back to
   end at the last frame so every frame is covered, and a clip shorter than a window
   is padded by repeating its last frame;
5. normalize each window (:mod:`posekit.jumps.normalize`: mean pelvis at the origin, mean
   neck–pelvis length 1).

Windows with a point behind the camera (NaN) or a mean torso shorter than 1 pixel are
dropped and counted.

The output ``<out>/windows-<split>-<key>.npz`` holds

- ``windows`` (N, 24, 28, 2) float32: normalized x, y (image axes: y down);
- ``clip`` (N,) str, ``camera`` (N,) int32 (camera index within the clip),
  ``start`` (N,) int32 (first frame, 30 fps), ``mirrored`` (N,) bool;
- ``center`` (N, 2) float32 and ``scale`` (N,) float32: pixels = windows · scale + center;
- ``settings``: a JSON string with every option, the clips, the code version and
  the counts.

``key`` hashes the settings, the input files (names and sizes) and the code version
(a hash of the sources involved), so re-running with the same settings reuses the file.

Example::

    python -m training.build_windows --split train --cameras 8 --stride 4 --seed 0 --out cache/
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from posekit.jumps import checkpoint
from training.mocap import (
    CLIP_SOURCES,
    REPO_ROOT,
    TARGET_FPS,
    clip_file,
    clip_rng,
    default_mocap_root,
    load_clips,
    save_arrays,
    source_version,
    split_clips,
)

#: Frames per window (the paper's F).
WINDOW = 24
#: Windows whose mean torso is shorter than this (pixels) are dropped.
MIN_TORSO_PX = 1.0
#: EVALUATION.md's camera.
FOCAL = 1000.0
DISTANCE = (3.5, 6.0)

#: Sources whose change invalidates a cached build.
WINDOW_SOURCES = (
    "training/camera.py",
    "posekit/jumps/normalize.py",
    "training/augment.py",
    "training/build_windows.py",
    "training/people.py",
)


def window_starts(n_frames: int, window: int = WINDOW, stride: int = 4) -> np.ndarray:
    """First frame of each window, every ``stride`` (at most ``window``) frames, covering
    every frame.

    The last window is moved back to end at the last frame when the stride does not
    land there. A sequence shorter than a window gets one window at 0 (pad it first).

    Examples
    --------
    >>> window_starts(30, 24, 4).tolist()
    [0, 4, 6]
    >>> window_starts(10, 24, 4).tolist()
    [0]
    """
    if window < 1 or not 1 <= stride <= window:
        raise ValueError(
            f"need 1 <= stride <= window so every frame is covered, got stride {stride} "
            f"and window {window}"
        )
    if n_frames <= window:
        return np.zeros(1, dtype=np.int64)
    starts = list(range(0, n_frames - window + 1, stride))
    if starts[-1] != n_frames - window:
        starts.append(n_frames - window)
    return np.asarray(starts, dtype=np.int64)


def cut_windows(sequence: np.ndarray, starts: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """``(..., T, J, D)`` → ``(..., len(starts), window, J, D)``; pads short sequences.

    Examples
    --------
    >>> cut_windows(np.arange(30.0).reshape(30, 1, 1), window_starts(30, 24, 4))[:, [0, -1], 0, 0]
    array([[ 0., 23.],
           [ 4., 27.],
           [ 6., 29.]])
    """
    sequence = np.asarray(sequence)
    missing = window - sequence.shape[-3]
    if missing > 0:  # repeat the last frame (NOTES.md: pad short sequences at the edge)
        widths = [(0, 0)] * sequence.ndim
        widths[-3] = (0, missing)
        sequence = np.pad(sequence, widths, mode="edge")
    index = np.asarray(starts)[:, None] + np.arange(window)
    return sequence[..., index, :, :]


@attrs.frozen
class WindowSettings:
    """Every option of a build; its JSON (with the inputs and code version) names the cache."""

    split: str
    cameras: int = 8
    stride: int = 4
    seed: int = 0
    window: int = WINDOW
    fps: float = TARGET_FPS
    mirror: bool = False
    bone_scale: float = 0.0
    focal_jitter: float = 0.0
    distance: tuple[float, float] = attrs.field(default=DISTANCE, converter=tuple)
    people: int = 0
    mix_motions: bool = False

    def __attrs_post_init__(self) -> None:
        if self.cameras < 1 or self.window < 1 or not 1 <= self.stride <= self.window:
            raise ValueError("cameras and window must be positive and 1 <= stride <= window")
        if not 0.0 <= self.bone_scale < 1.0:
            raise ValueError(f"--bone-scale must lie in [0, 1), got {self.bone_scale}")
        if not 0.0 <= self.focal_jitter < 1.0:
            raise ValueError(f"--focal-jitter must lie in [0, 1), got {self.focal_jitter}")
        if self.people < 0:
            raise ValueError(f"--people must be 0 or more, got {self.people}")
        if not 0.0 < self.distance[0] <= self.distance[1]:
            raise ValueError(f"--distance must be 0 < near <= far, got {self.distance}")


def clip_cameras(
    positions: np.ndarray, settings: WindowSettings, name: str
) -> list:
    """The ``settings.cameras`` cameras of one clip (variant), drawn from its seeded stream.

    Each camera follows EVALUATION.md (looks at the clip's mean pelvis), with the
    distance range of ``settings.distance``; with ``focal_jitter`` j the focal length is
    ``1000 · U[1 − j, 1 + j]``, drawn from a separate stream so the viewpoints do not
    change.
    """
    from posekit.jumps.normalize import PELVIS
    from training.camera import random_camera

    target = np.nanmean(positions[:, PELVIS], axis=0)
    rng = clip_rng(settings.seed, name, "camera")
    focal_rng = clip_rng(settings.seed, name, "focal")
    cameras = []
    for _ in range(settings.cameras):
        camera = random_camera(rng, target, distance_m=settings.distance, focal=FOCAL)
        if settings.focal_jitter > 0:
            j = settings.focal_jitter
            camera = attrs.evolve(camera, focal=FOCAL * focal_rng.uniform(1 - j, 1 + j))
        cameras.append(camera)
    return cameras


def clip_variants(
    clip: str, positions: np.ndarray, settings: WindowSettings, mocap: Path | None = None
) -> list[tuple[str, bool, np.ndarray]]:
    """``(seed name, mirrored, positions)`` of a clip after the augmentations (``mocap``,
    the mocap root, is needed for ``settings.people``)."""
    from training.augment import bone_factors, mirror, scale_bones
    from training.people import mixed_people

    positions = np.asarray(positions, dtype=np.float64)
    if settings.bone_scale > 0:
        factors = bone_factors(clip_rng(settings.seed, clip, "bone_scale"), settings.bone_scale)
        positions = scale_bones(positions, factors)
    variants = [(clip, False, positions)]
    if settings.people:
        if mocap is None:
            raise ValueError("new people (--people) need the mocap root")
        rng = clip_rng(settings.seed, clip, "people")
        partners = split_clips(mocap, settings.split) if settings.mix_motions else ()
        for k, person in enumerate(mixed_people(mocap, clip, settings.split, settings.people, rng,
                                                partners=partners)):
            variants.append((f"{clip}#person{k}", False, np.asarray(person, dtype=np.float64)))
    if settings.mirror:
        variants.append((f"{clip}#mirror", True, mirror(positions)))
    return variants


def clip_windows(
    clip: str, positions: np.ndarray, settings: WindowSettings, mocap: Path | None = None
) -> dict[str, np.ndarray]:
    """All windows of one clip (every variant and camera), normalized, with provenance."""
    from posekit.jumps.normalize import MIN_TORSO_LENGTH, normalize_windows, valid_windows

    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("windows", "camera", "start", "mirrored", "center", "scale")}
    dropped = 0
    for name, mirrored, variant in clip_variants(clip, positions, settings, mocap):
        starts = window_starts(len(variant), settings.window, settings.stride)
        for index, camera in enumerate(clip_cameras(variant, settings, name)):
            windows = cut_windows(camera.project(variant), starts, settings.window)
            keep = np.isfinite(windows).all(axis=(1, 2, 3)) & valid_windows(
                np.nan_to_num(windows), min_scale=max(MIN_TORSO_PX, MIN_TORSO_LENGTH)
            )
            dropped += int((~keep).sum())
            normalized, center, scale = normalize_windows(windows[keep])
            parts["windows"].append(normalized.astype(np.float32))
            parts["center"].append(center.astype(np.float32))
            parts["scale"].append(scale.astype(np.float32))
            parts["start"].append(starts[keep].astype(np.int32))
            parts["camera"].append(np.full(int(keep.sum()), index, dtype=np.int32))
            parts["mirrored"].append(np.full(int(keep.sum()), mirrored, dtype=bool))
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["dropped"] = np.int64(dropped)
    return out


def settings_key(settings: WindowSettings, mocap: Path, clips: Sequence[str]) -> tuple[str, dict]:
    """The cache key and the JSON-able description it hashes."""
    described = {
        **attrs.asdict(settings),
        "distance": list(settings.distance),
        "normalization": "per window: minus mean pelvis, divided by mean neck-pelvis 2D length",
        "camera": "EVALUATION.md: look at mean pelvis, azimuth U[0,360), elevation U[-10,30], "
                  "focal 1000 px, 1920x1080, roll 0",
        "inputs": [[clip, clip_file(mocap, clip).stat().st_size] for clip in clips],
        "code_version": source_version((*WINDOW_SOURCES, *CLIP_SOURCES)),
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:12]
    return digest, described


def build_windows(
    settings: WindowSettings,
    *,
    mocap: Path,
    out: Path,
    cache: Path | None = None,
    workers: int = 1,
    progress: bool = True,
    force: bool = False,
) -> Path:
    """Build (or reuse) the windows file of ``settings``; returns its path."""
    from tqdm import tqdm

    clips = split_clips(mocap, settings.split)
    key, described = settings_key(settings, mocap, clips)
    path = Path(out) / f"windows-{settings.split}-{key}.npz"
    if path.is_file() and not force:
        print(f"reusing {path}")
        return path
    started = time.perf_counter()
    data, failures = load_clips(mocap, clips, fps=settings.fps, cache_dir=cache,
                                workers=workers, progress=progress, refresh=force)
    parts = []
    for clip in tqdm(data, desc=f"windows {settings.split}", unit="clip", disable=not progress):
        windows = clip_windows(clip, data[clip], settings, mocap)
        windows["clip"] = np.full(len(windows["windows"]), clip)
        parts.append(windows)
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in
              ("windows", "clip", "camera", "start", "mirrored", "center", "scale")}
    arrays["clip"] = arrays["clip"].astype(str)
    dropped = int(sum(p["dropped"] for p in parts))
    frames = int(sum(len(v) for v in data.values()))
    described.update(
        git_commit=checkpoint.code_version()["git_commit"],
        counts={"clips": len(data), "frames": frames, "windows": len(arrays["windows"]),
                "dropped_windows": dropped},
        skipped_clips=failures,
        seconds=round(time.perf_counter() - started, 2),
    )
    save_arrays(path, **arrays, settings=np.str_(json.dumps(described)))
    print(f"wrote {path}: {len(arrays['windows'])} windows from {len(data)} clips "
          f"({frames} frames at {settings.fps:g} fps), {dropped} dropped, "
          f"{described['seconds']:.1f} s"
          + (f"; skipped clips {', '.join(failures)}" if failures else ""))
    return path


def read_windows(path: Path) -> tuple[np.ndarray, dict, int]:
    """The windows of a file :func:`build_windows` wrote, without those holding a
    non-finite value, as ``(N, F, 28, 2)`` float32; its settings; how many it held."""
    with np.load(path, allow_pickle=False) as data:
        windows = np.ascontiguousarray(data["windows"], dtype=np.float32)
        settings = json.loads(str(data["settings"])) if "settings" in data.files else {}
    finite = np.isfinite(windows).all(axis=(1, 2, 3))
    return windows[finite], settings, len(finite)


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m training.build_windows",
        description="Build normalized 24-frame 2D training windows from the mocap of a split.",
    )
    parser.add_argument("--split", required=True, choices=["train", "val", "test", "train-fit", "train-heldout"])
    parser.add_argument("--cameras", type=int, default=8, help="random cameras per clip")
    parser.add_argument("--stride", type=int, default=4, help="frames between window starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window", type=int, default=WINDOW,
                        help="frames per window (JUMPS needs 24; a window ridge reads it "
                             "from its model)")
    parser.add_argument("--mocap", type=Path, default=default_mocap_root(),
                        help="motion-capture folder (default: shared/mocap beside the repo)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "cache")
    parser.add_argument("--cache", type=Path, default=None,
                        help="where the 3D clip cache lives (default: --out)")
    parser.add_argument("--no-clip-cache", action="store_true", help="do not cache 3D clips")
    parser.add_argument("--mirror", action="store_true",
                        help="also add each clip's left/right mirror image")
    parser.add_argument("--bone-scale", type=float, default=0.0, metavar="S",
                        help="scale bones per clip by U[1-S, 1+S], left = right")
    parser.add_argument("--focal-jitter", type=float, default=0.0, metavar="J",
                        help="focal length 1000 * U[1-J, 1+J] px")
    parser.add_argument("--people", type=int, default=0, metavar="K",
                        help="also replay each clip on K new people (training.people)")
    parser.add_argument("--mix-motions", action="store_true",
                        help="the new people's upper body moves as in another clip of the split")
    parser.add_argument("--distance", type=float, nargs=2, default=DISTANCE,
                        metavar=("NEAR", "FAR"), help="camera distance range in metres")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="rebuild even if cached (3D clips too)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    settings = WindowSettings(
        split=args.split, cameras=args.cameras, stride=args.stride, seed=args.seed,
        window=args.window, mirror=args.mirror, bone_scale=args.bone_scale,
        focal_jitter=args.focal_jitter, distance=tuple(args.distance), people=args.people,
        mix_motions=args.mix_motions,
    )
    cache = None if args.no_clip_cache else (args.cache or args.out)
    return build_windows(settings, mocap=args.mocap, out=args.out, cache=cache,
                         workers=args.workers, progress=not args.quiet, force=args.force)


if __name__ == "__main__":
    main()
