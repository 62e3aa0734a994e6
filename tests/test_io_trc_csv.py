"""TRC marker files and posekit's own CSV read back (issue 17)."""

from __future__ import annotations

from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._values import ValueRepairWarning
from posekit.io.choose import choose_reader
from posekit.io.csv import CsvReader, CsvWriter
from posekit.io.trc import TrcReader, snake_case
from posekit.plugins.registry import get_skeleton


def trc_text(
    markers: list[str], frames: np.ndarray, *, units: str = "m", rate: float = 60.0
) -> str:
    """A TRC file (OpenSim's layout) of ``frames``: ``(frames, markers, 3)``, NaN as an
    empty cell."""
    n_frames, n_markers = frames.shape[:2]
    names = "\t".join(f"{m}\t\t" for m in markers)
    axes = "\t".join(f"X{k}\tY{k}\tZ{k}" for k in range(1, n_markers + 1))
    lines = [
        "PathFileType\t4\t(X/Y/Z)\tclip.trc",
        (
            "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
            "OrigDataStartFrame\tOrigNumFrames"
        ),
        f"{rate}\t{rate}\t{n_frames}\t{n_markers}\t{units}\t{rate}\t1\t{n_frames}",
        f"Frame#\tTime\t{names}",
        f"\t\t{axes}",
        "",
    ]
    for f in range(n_frames):
        cells = ["" if np.isnan(v) else repr(float(v)) for v in frames[f].ravel()]
        lines.append("\t".join([str(f + 1), f"{f / rate:.5f}", *cells]))
    return "\n".join(lines) + "\n"


POSE2SIM_MARKERS = ["CHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Neck",
                    "Head", "Nose", "RShoulder", "LShoulder", "RBigToe"]  # fmt: skip


def pose2sim_frames(n_frames: int = 3) -> np.ndarray:
    rng = np.random.default_rng(1)
    frames = rng.uniform(-1, 2, size=(n_frames, len(POSE2SIM_MARKERS), 3))
    frames[1, 2] = np.nan  # RKnee lost in frame 1
    return frames


def test_trc_markers_units_and_missing(tmp_path: Path) -> None:
    frames = pose2sim_frames()
    path = tmp_path / "clip.trc"
    path.write_text(trc_text(POSE2SIM_MARKERS, frames * 1000, units="mm", rate=30))
    assert choose_reader(path).name == "trc"
    seq = TrcReader().read(path)
    assert seq.keypoints == POSE2SIM_MARKERS and seq.fps == 30 and seq.n_space == 3
    np.testing.assert_allclose(seq.positions()[0], frames, rtol=1e-12)
    assert not seq.observed()[0, 1, 2] and seq.observed()[0, 0, 2]


def test_trc_in_a_skeleton(tmp_path: Path) -> None:
    frames = pose2sim_frames()
    path = tmp_path / "clip.trc"
    path.write_text(trc_text(POSE2SIM_MARKERS, frames))
    with pytest.warns(UserWarning, match=r"no marker for .*left_eye.*dropped: CHip"):
        seq = TrcReader(skeleton="body_25b").read(path)
    assert seq.skeleton == "body_25b"
    joints = get_skeleton("body_25b").joint_names
    position = seq.positions()[0]
    np.testing.assert_array_equal(position[:, joints.index("right_shoulder")], frames[:, 10])
    np.testing.assert_array_equal(position[:, joints.index("head_top")], frames[:, 8])
    assert np.isnan(position[:, joints.index("left_eye")]).all()
    assert seq.remap("mpi_inf_3dhp_28").observed()[0, 0].sum() == 11


def test_trc_errors_name_the_place(tmp_path: Path) -> None:
    path = tmp_path / "clip.trc"
    path.write_text(trc_text(["A", "B"], np.ones((2, 2, 3)), units="furlong"))
    with pytest.raises(PoseFileError, match="unknown unit 'furlong'.*'scale'"):
        TrcReader().read(path)
    assert TrcReader(scale=2.0).read(path).positions()[0, 0, 0, 0] == 2.0
    text = trc_text(["A", "B"], np.ones((2, 2, 3))).replace("\t1.0\n", "\tone\n", 1)
    path.write_text(text)
    with pytest.raises(PoseFileError, match="line 7.*'one'"):
        TrcReader().read(path)


def test_snake_case_of_marker_names() -> None:
    assert [snake_case(m) for m in ("RSmallToe", "LEar", "MidHip", "R_Hip", "Rhino")] == [
        "right_small_toe", "left_ear", "mid_hip", "right_hip", "rhino",
    ]  # fmt: skip


def sample_sequence(n_space: int = 2, fps: float | None = 25.0) -> PoseSequence:
    rng = np.random.default_rng(0)
    position = rng.normal(size=(5, n_space, 17, 2))
    position[2, :, 3, 1] = np.nan
    imputed = np.zeros((5, 17, 2), dtype=bool)
    imputed[4, 0, 0] = True
    seq = PoseSequence.from_arrays(
        position,
        rng.uniform(size=(5, 17, 2)),
        skeleton="coco_17",
        individuals=["alice", "bob, jr."],
        fps=fps,
        imputed=imputed,
    )
    return seq


@pytest.mark.parametrize(("n_space", "fps"), [(2, 25.0), (3, None), (2, 29.97)])
def test_csv_round_trip(tmp_path: Path, n_space: int, fps: float | None) -> None:
    seq = sample_sequence(n_space, fps)
    path = tmp_path / "poses.csv"
    CsvWriter().write(seq, path)
    assert choose_reader(path).name == "csv"
    back = CsvReader().read(path)
    assert back.skeleton == "coco_17" and back.fps == fps
    assert back.individuals == seq.individuals and back.keypoints == seq.keypoints
    np.testing.assert_array_equal(back.positions(), seq.positions())
    np.testing.assert_array_equal(back.confidences(), seq.confidences())
    np.testing.assert_array_equal(back.imputed_flags(), seq.imputed_flags())


def test_csv_rows_in_any_order_and_missing_rows(tmp_path: Path) -> None:
    path = tmp_path / "poses.csv"
    path.write_text(
        "time,individual,keypoint,x,y,confidence,imputed\n"
        "1,a,tip,3.0,4.0,,true\n"
        "0,a,base,1.0,2.0,0.5,false\n"
    )
    seq = CsvReader().read(path)
    assert seq.keypoints == ["tip", "base"] and seq.skeleton is None and seq.fps is None
    assert seq.positions()[0, 1, 0].tolist() == [3.0, 4.0]
    assert np.isnan(seq.positions()[0, 0, 0]).all()  # no row for (0, a, tip)
    assert seq.imputed_flags()[0, 1, 0] and np.isnan(seq.confidences()[0, 1, 0])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0,a,tip,3.0,4.0,0.5,yes", "expected true or false"),
        ("0,a,tip,x3,4.0,0.5,true", "field x.*expected a number"),
        ("0,a,tip,3.0,4.0", "5 cells; the header has 7"),
        ("0,a,base,3.0,4.0,0.5,true", "a second row"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "poses.csv"
    path.write_text("time,individual,keypoint,x,y,confidence,imputed\n0,a,base,1,2,1,false\n"
                    + line + "\n")  # fmt: skip
    with pytest.raises(PoseFileError, match=f"line 3.*{message}|{message}.*line 3"):
        CsvReader().read(path)


@settings(max_examples=25, deadline=None)
@given(
    values=hnp.arrays(
        np.float64,
        (3, 2, 4, 2),
        elements=st.one_of(st.just(np.nan), st.floats(-1e6, 1e6, allow_nan=False, width=64)),
    ),
    fps=st.one_of(st.none(), st.sampled_from([1.0, 24.0, 25.0, 30.0, 59.94, 120.0])),
)
def test_csv_round_trip_property(tmp_path_factory: pytest.TempPathFactory, values, fps) -> None:
    seq = PoseSequence.from_arrays(values, keypoints=["a", "b", "c", "d"], fps=fps)
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    CsvWriter().write(seq, path)
    back = CsvReader().read(path)
    np.testing.assert_array_equal(back.positions(), seq.positions())
    assert back.fps == fps


def test_trc_values_follow_the_readers_value_rules(tmp_path: Path) -> None:
    """An infinite or huge coordinate makes its marker missing, with a warning (as in
    every reader, posekit.io._values); the others keep their values."""
    frames = pose2sim_frames()
    path = tmp_path / "clip.trc"
    text = trc_text(POSE2SIM_MARKERS, frames)
    lines = text.split("\n")
    cells = lines[6].split("\t")
    cells[2], cells[6] = "inf", "1e12"  # frame 1: CHip's X, RHip's Y
    lines[6] = "\t".join(cells)
    path.write_text("\n".join(lines))
    with pytest.warns(ValueRepairWarning, match="clip.trc: 2 keypoints with an infinite or huge"):
        seq = TrcReader().read(path)
    position = seq.positions()[0]
    assert np.isnan(position[0, :2]).all()
    np.testing.assert_allclose(position[0, 2:], frames[0, 2:])


def test_csv_values_follow_the_readers_value_rules(tmp_path: Path) -> None:
    """A huge coordinate becomes missing and a negative confidence unknown, with a
    warning each (posekit.io._values)."""
    path = tmp_path / "poses.csv"
    path.write_text(
        "time,individual,keypoint,x,y,confidence,imputed\n"
        "0,a,base,1,2,0.5,false\n0,a,tip,3e9,4,0.5,false\n"
        "1,a,base,1,2,-0.5,false\n1,a,tip,3,4,0.5,false\n"
    )
    with pytest.warns(ValueRepairWarning) as caught:
        seq = CsvReader().read(path)
    said = " ".join(str(w.message) for w in caught)
    assert "1 keypoint with an infinite or huge" in said and "1 negative" in said
    assert np.isnan(seq.positions()[0, 0, 1]).all() and np.isnan(seq.confidences()[0, 1, 0])
    assert seq.positions()[0, 1].tolist() == [[1.0, 2.0], [3.0, 4.0]]
