"""Make every image of the documentation, in ``docs/images/``, from the current model.

Runs the shipped examples through their pipelines (``examples/upsample.yaml``,
``examples/openpose_occlusions/pipeline.yaml``, ``examples/batch/pipeline.yaml``; JUMPS
with ``preset: fast``) into a temporary folder, then draws:

- ``fig1-strip.png``: input (12 joints) and output (28 joints) of one motion, every few
  frames (as the JUMPS paper's Fig. 1);
- ``grid.png``: one window in the grid representation, input (with holes) and output;
- ``windows.png``: how a sequence is cut into half-overlapping windows;
- ``pckh_curves.png`` and ``per_joint.png``: what ``posekit evaluate --plots`` draws for
  the upsample example against its ground truth;
- ``upsample.gif``, ``openpose_occlusions.gif``, ``batch.gif``: the examples rendered,
  input beside output (``posekit render``);
- ``multi_person.gif``: the multi-person example (``examples/multi_person/``), the
  detections as the tracker linked them beside the JUMPS result (:func:`multi_person_figure`;
  alone: ``PYTHONPATH=.:docs python -c "import make_figures; make_figures.multi_person_figure()"``).
- ``mediapipe.gif``: the MediaPipe example (``examples/mediapipe/pipeline.yaml``, needs
  the posekit-mediapipe plugin) drawn on its video.

Rerun it whenever the shipped model changes; it takes a few minutes on two CPU cores.
The images of other pages (e.g. ``training-curves.png``) are left alone.

Usage::

    python docs/make_figures.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import yaml

from posekit import Pipeline
from posekit.core.sequence import PoseSequence
from posekit.evaluation.files import evaluate_files
from posekit.io.api import read
from posekit.render import Style, TimeRange, render

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
EXAMPLES = ROOT / "examples"
#: Size of the GIFs: panels 240 pixels high, at most 100 frames (a few hundred kB).
GIF_STYLE = Style(height=240)
GIF_FRAMES = 100
#: Joints of lower confidence count as missing, as the jumps stage's default.
MIN_CONFIDENCE = 0.4


def run_example(pipeline_file: Path, out: Path) -> Path:
    """Run an example pipeline with its result (and rendering) written under ``out``."""
    data = yaml.safe_load(pipeline_file.read_text())
    stem_out = str(out / "{stem}")
    renders = [i for i, step in enumerate(data["steps"]) if "render" in step]
    overrides = {f"steps[{i + 1}].render.out": f"{stem_out}-render.gif" for i in renders}
    overrides["output.path"] = f"{stem_out}.nc"
    report = Pipeline.from_yaml(pipeline_file, overrides=overrides).run(progress=False)
    if not report.ok:
        raise SystemExit(f"{pipeline_file}: {report.summary()}")
    return out


def mediapipe_figure(out: Path, path: Path) -> Path:
    """Run the MediaPipe example and draw its result on its video."""
    example = EXAMPLES / "mediapipe"
    run_example(example / "pipeline.yaml", out)
    return render(
        PoseSequence.read_netcdf(out / "astronaut.nc"), path, video=example / "astronaut.mp4",
        style=Style(height=180), titles=["astronaut.mp4: mediapipe, remap, jumps (fast)"],
        progress=False,
    )  # fmt: skip


def body_joints(sequence: PoseSequence) -> PoseSequence:
    """The AlphaPose input without its face points and low-confidence joints: the 12
    body joints that JUMPS is given."""
    from posekit.stages.basic import ConfidenceFilter

    filtered = ConfidenceFilter(threshold=MIN_CONFIDENCE)(sequence)
    position = filtered.positions()
    face = [i for i, name in enumerate(sequence.keypoints) if "_" not in name or "eye" in name
            or "ear" in name]  # fmt: skip
    position[:, :, face] = np.nan
    return filtered.replace(position=position)


def strip_figure(given: PoseSequence, result: PoseSequence, path: Path) -> Path:
    """Input and output skeletons of one motion, every few frames, in two rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from posekit.render.draw import SkeletonArtist, bounds, skeleton_of

    frames = list(range(120, 232, 14))
    fig, axes = plt.subplots(2, 1, figsize=(9, 6))
    rows = ((given, "input: 12 joints (AlphaPose, COCO-17 body)"),
            (result, "output: 28 joints (JUMPS; hollow = imputed)"))  # fmt: skip
    poses = [s.positions()[0, frames] for s, _ in rows]  # (frames, joints, 2)
    widths = [np.nanmax(p[..., 0], axis=1) - np.nanmin(p[..., 0], axis=1) for p in poses]
    heights = [np.nanmax(p[..., 1], axis=1) - np.nanmin(p[..., 1], axis=1) for p in poses]
    spacing = max(1.3 * max(np.nanmax(w) for w in widths), 0.55 * np.nanmax(heights[1]))
    # Both rows centre each frame on the output's mean x and share their limits.
    shifts = np.nanmean(poses[1][..., 0], axis=1) - spacing * np.arange(len(frames))
    shifted = [p - np.stack([shifts, np.zeros_like(shifts)], axis=-1)[:, None] for p in poses]
    box = bounds(shifted)
    for ax, (sequence, title), pose in zip(axes, rows, shifted, strict=True):
        skeleton = skeleton_of(sequence)
        for frame, xy in zip(frames, pose, strict=True):
            artist = SkeletonArtist(ax, skeleton, sequence.keypoints, size=0.8)
            artist.update(xy, sequence.imputed_flags()[0, frame])
        for column, frame in enumerate(frames):
            ax.text(column * spacing, box[3], f"frame {frame}", ha="center", va="top",
                    fontsize=7, color="#555555")  # fmt: skip
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[3] + 0.1 * (box[3] - box[2]), box[2])  # y down, room for labels
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9, loc="left")
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def grid_figure(given: PoseSequence, result: PoseSequence, start: int, path: Path) -> Path:
    """One 24-frame window as a grid: input (holes where joints are missing) and output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from posekit.jumps.grid import ENTRIES, grid_from_sequence

    grids = [grid_from_sequence(s, start)[0] for s in (given, result)]  # (4, 24, 18) each
    centre = np.nanmean(grids[1], axis=(1, 2), keepdims=True)
    scale = np.nanstd(grids[1])
    channels = ("x left", "y left", "x right", "y right")
    fig, axes = plt.subplots(2, 4, figsize=(11, 5.6), sharex=True, sharey=True)
    cmap = matplotlib.colormaps["coolwarm"].with_extremes(bad="#202020")
    for row, (grid, name) in enumerate(zip(grids, ("input", "output"), strict=True)):
        values = (grid - centre) / scale
        for channel in range(4):
            ax = axes[row, channel]
            image = ax.imshow(values[channel], cmap=cmap, vmin=-2, vmax=2, aspect="auto")
            ax.set_title(f"{name}: {channels[channel]}", fontsize=9)
            ax.set_xticks(range(len(ENTRIES)), ENTRIES, rotation=90, fontsize=6.5)
        axes[row, 0].set_ylabel("frame of the window")
    fig.colorbar(image, ax=axes, shrink=0.6, label="coordinate (centred, scaled)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def windows_figure(n_frames: int, path: Path) -> Path:
    """Where the windows of a sequence start and end (the jumps stage's strategy)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from posekit.jumps.settings import PRESETS, WINDOW
    from posekit.jumps.windowing import Closest

    starts = Closest(overlap=PRESETS["fast"].overlap).starts(n_frames, WINDOW)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(starts) + 1.0))
    for row, start in enumerate(starts):
        ax.barh(row, WINDOW, left=start, height=0.6, color="#1f77b4" if row % 2 else "#6baed6")
        ax.text(start + WINDOW / 2, row, f"{start}–{start + WINDOW - 1}", ha="center",
                va="center", fontsize=7, color="white")  # fmt: skip
    ax.set(xlim=(0, n_frames), xlabel="frame", yticks=[], ylabel="window")
    ax.invert_yaxis()
    ax.set_title(f"{n_frames} frames in windows of {WINDOW}, half overlapping", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def multi_person_figure(out: Path | None = None) -> Path:
    """``multi_person.gif``: frames 20–119 of the multi-person example (the walkers
    cross near frame 60; the near one leaves the image near frame 100), its AlphaPose
    detections with the ids posekit's tracker gave beside the JUMPS result."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = EXAMPLES / "multi_person"
        run_example(folder / "pipeline.yaml", Path(out or tmp))
        result = PoseSequence.read_netcdf(Path(out or tmp) / "alphapose-results.nc")
        return render(
            result, IMAGES / "multi_person.gif",
            compare=read(folder / "alphapose-results.json"),
            time=TimeRange(20, 20 + GIF_FRAMES), style=GIF_STYLE, fps=30,
            titles=["detections, ids by the tracker", "jumps (fast), where present"],
            min_confidence=MIN_CONFIDENCE, progress=False,
        )  # fmt: skip


def main() -> None:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()  # no options: --help prints the docstring and changes nothing
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        run_example(EXAMPLES / "upsample.yaml", out)
        run_example(EXAMPLES / "openpose_occlusions" / "pipeline.yaml", out)
        run_example(EXAMPLES / "batch" / "pipeline.yaml", out)

        alphapose = EXAMPLES / "cmu_02_05" / "alphapose-results.json"
        result = PoseSequence.read_netcdf(out / "alphapose-results.nc")
        given = body_joints(read(alphapose))
        written = [strip_figure(given, result, IMAGES / "fig1-strip.png")]
        written.append(grid_figure(given.with_attrs(fps=result.fps).remap("mpi_inf_3dhp_28"),
                                   result, 144, IMAGES / "grid.png"))  # fmt: skip
        written.append(windows_figure(96, IMAGES / "windows.png"))
        evaluation = evaluate_files(
            out / "alphapose-results.nc", EXAMPLES / "cmu_02_05" / "truth.nc", input=alphapose
        )
        written += evaluation.plot(IMAGES)

        gifs = (
            ("upsample.gif", out / "alphapose-results.nc", alphapose, 120),
            ("openpose_occlusions.gif", out / "cmu_124_01.nc",
             EXAMPLES / "openpose_occlusions" / "cmu_124_01", 40),
            ("batch.gif", out / "cmu_02_03.nc", EXAMPLES / "batch" / "clips" / "cmu_02_03.json", 0),
        )  # fmt: skip
        for name, output, source, start in gifs:
            compare = read(source)
            written.append(render(
                PoseSequence.read_netcdf(output), IMAGES / name, compare=compare,
                time=TimeRange(start, start + GIF_FRAMES), style=GIF_STYLE,
                fps=30, titles=[source.name, f"{output.stem}.nc (jumps, fast)"],
                min_confidence=MIN_CONFIDENCE, progress=False,
            ))  # fmt: skip
        written.append(mediapipe_figure(out, IMAGES / "mediapipe.gif"))
    written.append(multi_person_figure())
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
