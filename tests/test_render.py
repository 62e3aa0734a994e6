"""Rendering: frame counts and sizes, what is drawn where (bones, sides, imputed joints),
comparisons, time ranges, video, the render stage and command, missing packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.errors import PosekitError
from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_skeleton
from posekit.render import Style, TimeRange, render
from posekit.render.draw import HOLLOW, SIDE_COLOURS, FrameRenderer
from posekit.render.media import MissingDependencyError, write_frames

# A standing COCO-17 person in pixels (y down), facing the camera: their left is on
# the image's right.
STANDING = {
    "nose": (0, -160), "left_eye": (8, -168), "right_eye": (-8, -168),
    "left_ear": (16, -162), "right_ear": (-16, -162),
    "left_shoulder": (30, -120), "right_shoulder": (-30, -120),
    "left_elbow": (60, -80), "right_elbow": (-60, -80),
    "left_wrist": (90, -40), "right_wrist": (-90, -40),
    "left_hip": (20, 0), "right_hip": (-20, 0),
    "left_knee": (25, 60), "right_knee": (-25, 60),
    "left_ankle": (30, 120), "right_ankle": (-30, 120),
}  # fmt: skip


def person(frames: int = 10, shift: float = 0.0) -> np.ndarray:
    """``(frames, 2, 17)`` a person drifting right by 2 pixels a frame."""
    names = get_skeleton("coco_17").joint_names
    base = np.array([STANDING[n] for n in names], dtype=float) + (200 + shift, 200)
    return np.stack([(base + (2 * t, 0)).T for t in range(frames)])


def sequence(frames: int = 10, individuals: int = 1, fps: float | None = 30,
             source_file: str | None = None) -> PoseSequence:  # fmt: skip
    position = np.stack([person(frames, 300 * i) for i in range(individuals)], axis=-1)
    return PoseSequence.from_arrays(position, skeleton="coco_17", fps=fps,
                                    source_file=source_file)  # fmt: skip


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def pixel_of(renderer: FrameRenderer, panel: int, xy: np.ndarray) -> tuple[int, int]:
    """(row, column) of a data point in the rendered image."""
    x, y = renderer.panels[panel].axes.transData.transform(xy)
    return renderer.size[1] - round(y), round(x)


def has_colour(image: np.ndarray, where: tuple[int, int], colour: str, tolerance: int = 40,
               ) -> bool:  # fmt: skip
    """Whether a pixel within one of ``where`` has the colour (lines are anti-aliased)."""
    row, col = where
    patch = image[row - 1 : row + 2, col - 1 : col + 2].reshape(-1, 3).astype(int)
    return bool((np.abs(patch - rgb(colour)).max(axis=1) < tolerance).any())


def test_gif_has_the_frames_and_size(tmp_path):
    out = render(sequence(12), tmp_path / "clip.gif", style=Style(height=120), progress=False)
    with Image.open(out) as gif:
        assert gif.n_frames == 12
        assert gif.size[1] == 120 and gif.size[0] % 2 == 0
        assert abs(gif.info["duration"] - 1000 / 30) <= 5  # GIF delays are centiseconds
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]  # no temporary file left


def test_png_is_one_frame_of_the_panel_size(tmp_path):
    seq = sequence(5)
    renderer = FrameRenderer([seq], ["a"], Style(height=200))
    out = render(seq, tmp_path / "frame.png", style=Style(height=200), progress=False)
    with Image.open(out) as png:
        assert png.size == renderer.size and getattr(png, "n_frames", 1) == 1


def test_left_and_right_sides_have_their_colours():
    seq = sequence(3)
    skeleton = get_skeleton("coco_17")
    renderer = FrameRenderer([seq], ["a"], Style(height=360))
    image = renderer.frame(0)
    xy = seq.positions()[0, 0]
    for joint in ("left_wrist", "left_knee", "right_wrist", "right_knee"):
        where = pixel_of(renderer, 0, xy[skeleton.index(joint)])
        assert has_colour(image, where, SIDE_COLOURS[joint.split("_")[0]]), joint
    # a bone is drawn between a joint and its parent, in the child's side colour
    for child in ("left_elbow", "right_knee"):
        parent = skeleton.parents[skeleton.index(child)]
        middle = (xy[skeleton.index(child)] + xy[parent]) / 2
        side = SIDE_COLOURS[child.split("_")[0]]
        assert has_colour(image, pixel_of(renderer, 0, middle), side), child
    # and none between two joints that are not parent and child (left and right wrist)
    middle = (xy[skeleton.index("left_wrist")] + xy[skeleton.index("right_wrist")]) / 2
    where = pixel_of(renderer, 0, middle)
    assert not has_colour(image, where, SIDE_COLOURS["left"])
    assert not has_colour(image, where, SIDE_COLOURS["right"])


def test_imputed_joints_are_hollow_and_measured_ones_filled():
    seq = sequence(3)
    skeleton = get_skeleton("coco_17")
    imputed = np.zeros((3, 17, 1), bool)
    imputed[:, skeleton.index("left_wrist")] = True
    seq = seq.replace(imputed=imputed.transpose(2, 0, 1))
    renderer = FrameRenderer([seq], ["a"], Style(height=360))
    image = renderer.frame(0)
    xy = seq.positions()[0, 0]
    wrist = pixel_of(renderer, 0, xy[skeleton.index("left_wrist")])
    assert has_colour(image, wrist, HOLLOW)  # hollow centre
    assert not has_colour(image, wrist, SIDE_COLOURS["left"])
    ring = (wrist[0], wrist[1] + 5)  # the marker's edge, in the side colour
    assert has_colour(image, ring, SIDE_COLOURS["left"], tolerance=90)
    elbow = pixel_of(renderer, 0, xy[skeleton.index("left_elbow")])
    assert has_colour(image, elbow, SIDE_COLOURS["left"])
    assert not has_colour(image, elbow, HOLLOW)  # filled centre
    person = renderer.panels[0].people[0]
    assert person.hollow_joints() == [skeleton.index("left_wrist")]
    # the bone to an imputed joint is dashed, the others solid
    styles = person.bones.get_linestyles()
    assert len(styles) == 16
    assert sum(dashes is not None for _, dashes in styles) == 1


def test_missing_joints_are_not_drawn():
    seq = sequence(2)
    position = seq.positions()
    position[0, :, get_skeleton("coco_17").index("left_wrist")] = np.nan
    renderer = FrameRenderer([seq.replace(position=position)], ["a"], Style())
    renderer.frame(0)
    person = renderer.panels[0].people[0]
    assert len(person.joints.get_offsets()) == 16 and len(person.bones.get_segments()) == 15


def test_several_individuals_are_drawn_with_their_ids():
    renderer = FrameRenderer([sequence(2, individuals=2)], ["a"], Style())
    renderer.frame(1)
    panel = renderer.panels[0]
    assert len(panel.people) == 2 and all(len(p.joints.get_offsets()) == 17 for p in panel.people)
    assert [t.get_text() for t in panel.names] == ["id_0", "id_1"]


def test_compare_draws_both_side_by_side(tmp_path):
    seq = sequence(4)
    dense = seq.remap("mpi_inf_3dhp_28")
    renderer = FrameRenderer([seq, dense], ["in", "out"], Style(height=200))
    single = FrameRenderer([seq], ["in"], Style(height=200))
    assert renderer.size == (2 * single.size[0], 200)
    renderer.frame(0)
    left, right = renderer.panels
    assert len(left.people[0].joints.get_offsets()) == 17
    assert len(right.people[0].joints.get_offsets()) == 12
    assert left.axes.get_xlim() == right.axes.get_xlim()  # the same scale, side by side
    out = render(dense, tmp_path / "both.png", compare=seq, style=Style(height=200),
                 progress=False)  # fmt: skip
    with Image.open(out) as png:
        assert png.size == renderer.size


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(None, None, 20), (5, None, 15), ("0.2s", 10, 4), ("3", "0.5s", 12), (None, 100, 20)],
)
def test_time_range(tmp_path, start, end, expected):
    out = render(sequence(20), tmp_path / "clip.gif", time=TimeRange(start, end),
                 style=Style(height=64), progress=False)  # fmt: skip
    with Image.open(out) as gif:
        assert gif.n_frames == expected


def test_time_range_errors(tmp_path):
    with pytest.raises(PosekitError, match="no frame rate"):
        render(sequence(5, fps=None), tmp_path / "a.gif", time=TimeRange("1s"), progress=False)
    with pytest.raises(PosekitError, match="holds no frame"):
        render(sequence(5), tmp_path / "a.gif", time=TimeRange(4, 2), progress=False)
    with pytest.raises(PosekitError, match="seconds"):
        render(sequence(5), tmp_path / "a.gif", time=TimeRange("2m"), progress=False)
    assert not list(tmp_path.iterdir())


def test_unknown_output_format(tmp_path):
    with pytest.raises(PosekitError, match=r"\.avi.*\.png.*\.gif.*\.mp4"):
        render(sequence(2), tmp_path / "a.avi", progress=False)


def test_missing_imageio_ffmpeg_is_named_with_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    with pytest.raises(MissingDependencyError, match=r"'imageio-ffmpeg'.*pip install"):
        render(sequence(3), tmp_path / "a.mp4", progress=False)
    (tmp_path / "source.mp4").write_bytes(b"")
    with pytest.raises(MissingDependencyError, match=r"reading a video.*'imageio-ffmpeg'"):
        render(sequence(3), tmp_path / "a.gif", video=tmp_path / "source.mp4", progress=False)
    result = CliRunner().invoke(app, ["render", str(_netcdf(tmp_path)), "--out",
                                      str(tmp_path / "a.mp4")])  # fmt: skip
    assert result.exit_code == 1
    assert "imageio-ffmpeg" in result.output and "pip install" in result.output
    assert not (tmp_path / "a.mp4").exists()


def test_missing_matplotlib_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"'matplotlib'.*pip install"):
        render(sequence(3), tmp_path / "a.gif", progress=False)


def _netcdf(folder: Path, seq: PoseSequence | None = None) -> Path:
    return (seq or sequence(6)).to_netcdf(folder / "clip.nc")


def _frames_of_mp4(path: Path) -> int:
    ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return ffmpeg.count_frames_and_secs(str(path))[0]


def test_mp4_and_video_overlay(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    green = np.zeros((240, 320, 3), np.uint8)
    green[..., 1] = 200
    video = write_frames([green] * 12, tmp_path / "source.mp4", fps=30)
    seq = sequence(10)
    out = render(seq, tmp_path / "overlay.mp4", video=video, progress=False)
    assert _frames_of_mp4(out) == 10
    renderer = FrameRenderer([seq], ["a"], Style(height=200), video_size=(320, 240))
    assert renderer.size[0] == 2 * round(200 * 0.8 * 320 / 240 / 2)
    image = renderer.frame(0, green)
    corner = pixel_of(renderer, 0, np.array([5.0, 5.0]))  # a video pixel, no skeleton
    assert has_colour(image, corner, "#00c800")
    with pytest.raises(PosekitError, match="never overwritten"):
        render(seq, video, video=video, progress=False)


def test_command_writes_the_file_and_checks_options(tmp_path):
    source = _netcdf(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["render", str(source), "--height", "80", "--end", "3", "-q"])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "clip.gif") as gif:  # default: beside the file
        assert gif.n_frames == 3
    result = runner.invoke(app, ["render", str(source), "--out", str(tmp_path / "c.png"),
                                 "--compare", str(source), "--joint-names"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["render", str(source), "--start", "later"])
    assert result.exit_code == 1 and "frame number" in result.output


def test_render_step_in_a_yaml_pipeline(tmp_path):
    from posekit import Pipeline

    _netcdf(tmp_path, sequence(8, source_file="camera1/clip.json"))  # {stem}: clip
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({
        "input": {"path": "clip.nc"},
        "steps": [
            {"remap": {"to": "mpi_inf_3dhp_28"}},
            {"render": {"out": "views/{stem}.gif", "compare": "{stem}.nc", "end": 5,
                        "height": 96}},
        ],
        "output": {"path": "out/{stem}.nc"},
    }))  # fmt: skip
    report = Pipeline.from_yaml(tmp_path / "pipeline.yaml").run(progress=False)
    assert report.ok, report.summary()
    with Image.open(tmp_path / "views" / "clip.gif") as gif:
        assert gif.n_frames == 5 and gif.size[1] == 96
    out = PoseSequence.read_netcdf(tmp_path / "out" / "clip.nc")
    assert out.log[-1]["stage"] == "render" and out.n_keypoints == 28


def test_render_step_is_checked_before_any_work(tmp_path):
    from posekit import Pipeline
    from posekit.core.errors import InvalidPipelineError

    _netcdf(tmp_path)
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({
        "input": {"path": "clip.nc"},
        "steps": [{"render": {"out": "clip.avi", "start": "soon"}}],
        "output": {"path": "out/{stem}.nc"},
    }))  # fmt: skip
    with pytest.raises(InvalidPipelineError) as caught:
        Pipeline.from_yaml(tmp_path / "pipeline.yaml")
    assert "render" in str(caught.value)


def test_the_command_line_does_not_import_matplotlib():
    code = (
        "import sys; from typer.testing import CliRunner; from posekit.cli import app; "
        "from posekit.plugins.registry import get_registry; get_registry(); "
        "CliRunner().invoke(app, ['render', '--help']); "
        "print('matplotlib' in sys.modules, 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    "module",
    ["posekit.render.clip", "posekit.render.draw", "posekit.render.media",
     "posekit.render.options", "posekit.stages.render"],
)  # fmt: skip
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
