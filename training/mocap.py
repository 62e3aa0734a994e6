"""The motion-capture clips of a split as 3D poses in the 28-joint layout at 30 fps.

Every builder starts here: a clip (``cmu/subjects/<SS>/<SS>_<TT>.amc.gz`` under the
mocap root) is read with posekit's ``asf_amc`` reader (the subject's ASF beside it),
mapped to ``mpi_inf_3dhp_28`` with ``PoseSequence.remap`` (the table of
``skeletons/cmu_31.toml``, i.e. the mocap README), and resampled from 120 fps to 30 fps
by linear interpolation in time. Positions are in metres, CMU axes (Y up).

The result of each clip is cached once, as float32, in
``<cache>/clips3d/<key>/<clip>.npz`` (``positions`` (T, 28, 3), ``fps``, ``source_size``),
where ``key`` hashes the frame rate and the source of every module involved, so a change
of the reader or the mapping invalidates it. The builders always go through float32, so
a cached and a fresh build give identical windows.

Run ``python -m training.mocap --split all --time 3`` for the frame counts of each
split and the time it takes to parse every clip (median of 3 runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
import warnings
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

#: Frame rate of every training and evaluation clip (EVALUATION.md).
TARGET_FPS = 30.0
#: CMU's nominal capture rate; AMC files do not record theirs.
CMU_FPS = 120.0
#: The 28-joint output layout.
SKELETON = "mpi_inf_3dhp_28"
SPLITS = ("train", "val", "test")

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Purposes of the random streams drawn per clip; each gets its own stream, so adding
#: an option never changes the numbers another option draws.
PURPOSES = {
    "camera": 1,
    "bone_scale": 2,
    "focal": 3,
    "people": 4,
    "eval_camera": 10,
    "eval_hpe": 11,
    "eval_dropout": 12,
    "eval_alphapose": 13,
}


def default_mocap_root() -> Path:
    """``shared/mocap`` beside the repository (``../shared/mocap`` from its root)."""
    return REPO_ROOT.parent / "shared" / "mocap"


def clip_rng(seed: int, name: str, purpose: str) -> np.random.Generator:
    """The random generator of one clip and purpose, the same on every machine and run.

    Seeded from ``(seed, crc32(name), purpose id)`` through numpy's SeedSequence;
    Python's ``hash()`` is salted per process and must not be used.

    Examples
    --------
    >>> a = clip_rng(0, "01_01", "camera").random()
    >>> a == clip_rng(0, "01_01", "camera").random() != clip_rng(0, "01_02", "camera").random()
    True
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed), key, PURPOSES[purpose]]))


def load_splits(root: Path) -> dict:
    """``splits.json`` of the mocap root."""
    path = Path(root) / "splits.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no {path}: pass the motion-capture folder with --mocap"
        ) from None


#: Every HELDOUT_EVERY-th clip of each train subject forms ``train-heldout`` (new motions
#: of people seen in training); the others form ``train-fit``, what a model trains on
#: when the gap between known and new people is to be measured (**ours**).
HELDOUT_EVERY = 5


def split_clips(root: Path, split: str) -> list[str]:
    """Clip names of a split (``"all"`` for every split), in the order of splits.json.

    ``train-fit`` and ``train-heldout`` divide each train subject's clips: every
    :data:`HELDOUT_EVERY`-th clip (from the third) is held out.

    Examples
    --------
    >>> split_clips(default_mocap_root(), "val")[:2]  # doctest: +SKIP
    ['07_01', '07_02']
    """
    if split in ("train-fit", "train-heldout"):
        data = load_splits(root)
        clips = []
        for subject in data["splits"]["train"]:
            trials = data["clips"][subject]
            held = set(trials[2::HELDOUT_EVERY])
            clips.extend(c for c in trials if (c in held) == (split == "train-heldout"))
        return clips
    data = load_splits(root)
    names = SPLITS if split == "all" else (split,)
    clips: list[str] = []
    for name in names:
        if name not in data["splits"]:
            raise KeyError(f"no split {name!r} in {root}/splits.json: {sorted(data['splits'])}")
        for subject in data["splits"][name]:
            clips.extend(data["clips"][subject])
    return clips


def clip_file(root: Path, clip: str) -> Path:
    """The AMC file of a clip: ``cmu/subjects/<SS>/<clip>.amc.gz`` (or ``.amc``)."""
    subject = clip.split("_", 1)[0]
    folder = Path(root) / "cmu" / "subjects" / subject
    for suffix in (".amc.gz", ".amc"):
        if (folder / f"{clip}{suffix}").is_file():
            return folder / f"{clip}{suffix}"
    raise FileNotFoundError(f"no motion file for clip {clip!r} in {folder}")


def source_version(paths: Iterable[str | Path]) -> str:
    """``posekit <version>+<sha256 of the files>``: names the code that made a cache.

    Paths are relative to the repository root.
    """
    from posekit import __version__

    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        digest.update(path.encode())
        full = REPO_ROOT / path
        digest.update(full.read_bytes() if full.is_file() else b"<missing>")
    return f"posekit {__version__}+{digest.hexdigest()[:12]}"


#: Sources that decide the 3D clips (for the cache key): the parser, the mapping data and
#: the resampling. The general machinery (PoseSequence.remap) is not hashed, so that
#: unrelated edits of the core do not invalidate every cache; pass ``--force`` to the builders
#: (or delete ``cache/clips3d``) after changing how remapping works.
CLIP_SOURCES = (
    "posekit/io/asf_amc.py",
    "training/resample.py",
    "skeletons/cmu_31.toml",
    "skeletons/mpi_inf_3dhp_28.toml",
    "training/mocap.py",
)


def read_clip(path: Path, fps: float = TARGET_FPS) -> np.ndarray:
    """One clip as ``(T, 28, 3)`` float32 positions in metres at ``fps``.

    Read with the registered ``asf_amc`` reader (120 fps; a file cut off in its last
    frame keeps its complete frames, as CMU's ``07_12`` needs), remapped to the 28-joint
    layout and resampled.
    """
    from posekit.plugins.registry import get_registry
    from training.resample import resample_sequence

    reader = get_registry().entry("reader", "asf_amc").cls(
        fps=CMU_FPS, drop_incomplete_last_frame=True
    )
    sequence = reader.read(Path(path)).remap(SKELETON)
    if sequence.fps != fps:
        sequence = resample_sequence(sequence, fps)
    return sequence.positions()[0].astype(np.float32)


def _read_one(job: tuple[str, float]) -> np.ndarray | str:
    """One clip, or the message of the error that stopped it (errors are not always
    picklable, so worker processes return them as text)."""
    from posekit.core.errors import PosekitError

    path, fps = job
    try:
        return read_clip(Path(path), fps)
    except (PosekitError, ValueError) as err:
        return f"{type(err).__name__}: {err}"


def load_clips(
    root: Path,
    clips: Sequence[str],
    *,
    fps: float = TARGET_FPS,
    cache_dir: Path | None = None,
    workers: int = 1,
    progress: bool = True,
    refresh: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The clips as ``{name: (T, 28, 3) float32}``, from the 3D cache where possible.

    A clip that cannot be read (a malformed or truncated file) is left out with a
    warning; the second value maps such clips to the error message.

    Parameters
    ----------
    root
        The mocap root.
    clips
        Clip names.
    fps
        Output frame rate.
    cache_dir
        Where ``clips3d/`` lives; None reads every clip and caches nothing.
    workers
        Processes used to read the clips that are not cached.
    progress
        Show a tqdm progress bar.
    refresh
        Read every clip again and overwrite its cache entry.

    Returns
    -------
    clips
        ``{name: positions}`` in the order of ``clips``, without the failures.
    failures
        ``{name: error message}``.
    """
    from tqdm import tqdm

    root = Path(root)
    files = {clip: clip_file(root, clip) for clip in clips}
    folder = None
    if cache_dir is not None:
        key = hashlib.sha256(
            json.dumps({"fps": fps, "code": source_version(CLIP_SOURCES)}).encode()
        ).hexdigest()[:12]
        folder = Path(cache_dir) / "clips3d" / key
        folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, np.ndarray] = {}
    todo = []
    for clip in clips:
        size = files[clip].stat().st_size
        cached = folder / f"{clip}.npz" if folder is not None else None
        if cached is not None and cached.is_file() and not refresh:
            with np.load(cached, allow_pickle=False) as data:
                if int(data["source_size"]) == size and float(data["fps"]) == fps:
                    out[clip] = data["positions"]
                    continue
        todo.append(clip)
    failures: dict[str, str] = {}
    if todo:
        jobs = [(str(files[c]), fps) for c in todo]
        bar = tqdm(total=len(todo), desc="reading mocap", unit="clip", disable=not progress)
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = pool.map(_read_one, jobs)
                for clip, result in zip(todo, results, strict=True):
                    out[clip] = result
                    bar.update()
        else:
            for clip, job in zip(todo, jobs, strict=True):
                out[clip] = _read_one(job)
                bar.update()
        bar.close()
        for clip in todo:
            if isinstance(out[clip], str):
                failures[clip] = out.pop(clip)
                warnings.warn(f"clip {clip} skipped: {failures[clip]}", stacklevel=2)
        if folder is not None:
            for clip in todo:
                if clip in failures:
                    continue
                save_arrays(
                    folder / f"{clip}.npz",
                    positions=out[clip],
                    fps=np.float64(fps),
                    source_size=np.int64(files[clip].stat().st_size),
                    source_file=np.str_(str(files[clip])),
                )
    return {clip: out[clip] for clip in clips if clip in out}, failures


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` through :func:`posekit.core.atomic.atomic_path` (no half-written file)."""
    from posekit.core.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.savez(stream, **arrays)


def time_parsing(root: Path, clips: Sequence[str], repeats: int = 3) -> list[float]:
    """Seconds to parse every clip (ASF + AMC + forward kinematics), ``repeats`` times.

    Only the parsing: no remapping, resampling or caching.
    """
    from posekit.core.errors import PoseFileError
    from posekit.io.asf_amc import read_amc

    files = [clip_file(root, clip) for clip in clips]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for path in files:
            try:
                read_amc(path, fps=CMU_FPS, drop_incomplete_last_frame=True)
            except PoseFileError:
                pass  # a malformed clip still costs its parsing time
        times.append(time.perf_counter() - start)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.mocap",
        description="Read (and cache) the 3D clips of a split; print frame counts and timings.",
    )
    parser.add_argument("--split", default="all", choices=[*SPLITS, "all"])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "cache")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--time", type=int, default=0, metavar="N",
                        help="also time parsing every clip N times and print the median")
    args = parser.parse_args(argv)
    splits = SPLITS if args.split == "all" else (args.split,)
    for split in splits:
        clips = split_clips(args.mocap, split)
        start = time.perf_counter()
        data, failures = load_clips(args.mocap, clips, cache_dir=args.cache,
                                    workers=args.workers)
        seconds = time.perf_counter() - start
        frames = sum(len(v) for v in data.values())
        print(f"{split}: {len(data)} clips, {frames} frames at {TARGET_FPS:g} fps "
              f"({frames / TARGET_FPS / 60:.1f} min), loaded in {seconds:.1f} s"
              + (f"; skipped {', '.join(failures)}" if failures else ""))
    if args.time:
        clips = [c for s in splits for c in split_clips(args.mocap, s)]
        times = time_parsing(args.mocap, clips, args.time)
        print(f"parsing {len(clips)} clips: median {statistics.median(times):.2f} s "
              f"over {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
