"""The ``c3d`` reader on small C3D files written here with ezc3d from synthetic markers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ezc3d
import numpy as np
import pytest
import yaml
from posekit_c3d.reader import C3DReader

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_registry, get_skeleton
from posekit.stages.basic import Remap

MARKERS = list(get_skeleton("plug_in_gait_39").joint_names)
FRAMES = 6


def write_c3d(path: Path, labels: list[str], xyz: np.ndarray, residuals: np.ndarray,
              units: str = "mm", rate: float = 100.0) -> Path:
    """A C3D file: ``xyz`` (frames, points, 3) in ``units``, ``residuals`` (frames, points);
    points with a negative residual are written invalid."""
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [rate]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels)
    c3d["parameters"]["POINT"]["UNITS"]["value"] = [units]
    points = np.ones((4, len(labels), len(xyz)))
    points[:3] = xyz.transpose(2, 1, 0)
    points[:3, residuals.T < 0] = np.nan
    c3d["data"]["points"] = points
    c3d["data"]["meta_points"]["residuals"] = residuals.T[None].astype(float)
    c3d["data"]["meta_points"]["camera_masks"] = np.zeros((7, len(labels), len(xyz)), bool)
    c3d.write(str(path))
    return path


def markers(seed: int = 0) -> np.ndarray:
    """(FRAMES, 39, 3) marker positions in mm: a random body drifting along x."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-500, 500, (1, len(MARKERS), 3)) + [0, 0, 1000]
    return base + np.arange(FRAMES)[:, None, None] * [10.0, 0, 0]


@pytest.fixture
def two_subjects(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Ann and Bob with every marker (plus a non-marker point), some points invalid
    (residual -1) or interpolated (residual 0)."""
    xyz = np.concatenate([markers(0), markers(1), markers(2)[:, :1]], axis=1)
    labels = [f"Ann:{m}" for m in MARKERS] + [f"Bob:{m}" for m in MARKERS] + ["Ann:LKJC"]
    residuals = np.full(xyz.shape[:2], 2.0)
    residuals[2, MARKERS.index("LASI")] = -1  # Ann's LASI lost in frame 2
    residuals[3:, len(MARKERS) + MARKERS.index("RTOE")] = 0  # Bob's RTOE gap-filled
    return write_c3d(tmp_path / "walk.c3d", labels, xyz, residuals), xyz, residuals


def test_reads_markers_subjects_units_and_residuals(two_subjects):
    path, xyz, _ = two_subjects
    sequence = C3DReader().read(path)
    assert sequence.skeleton == "plug_in_gait_39" and sequence.individuals == ["Ann", "Bob"]
    assert sequence.n_frames == FRAMES and sequence.fps == 100.0 and sequence.n_space == 3
    position = sequence.positions()  # (individual, time, keypoint, space), metres
    lasi, rtoe = MARKERS.index("LASI"), MARKERS.index("RTOE")
    expected = xyz[:, : len(MARKERS)] / 1000
    assert np.isnan(position[0, 2, lasi]).all()
    keep = np.ones(position.shape[1:3], bool)
    keep[2, lasi] = False
    np.testing.assert_allclose(position[0][keep], expected[keep], rtol=1e-6)
    confidence, imputed = sequence.confidences(), sequence.imputed_flags()
    assert np.isnan(confidence[0, 2, lasi]) and np.nansum(confidence) == keep.sum() + keep.size
    assert imputed[1, 3:, rtoe].all() and imputed.sum() == FRAMES - 3
    measured = C3DReader(zero_residual="measured").read(path)
    assert not measured.imputed_flags().any()


def test_remap_gives_the_28_joints_as_weighted_sums_of_markers(two_subjects):
    path, xyz, _ = two_subjects
    joints = Remap(to="mpi_inf_3dhp_28")(C3DReader().read(path))
    names = list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    position = joints.positions()
    bob = xyz[:, len(MARKERS) : 2 * len(MARKERS)] / 1000

    def marker(name):
        return bob[:, MARKERS.index(name)]

    assert np.isfinite(position[1]).all()  # every joint, every frame
    pelvis = (marker("LASI") + marker("RASI") + marker("LPSI") + marker("RPSI")) / 4
    np.testing.assert_allclose(position[1, :, names.index("pelvis")], pelvis, rtol=1e-6)
    toe = 1.25 * marker("LTOE") - 0.25 * marker("LHEE")
    np.testing.assert_allclose(position[1, :, names.index("left_toe")], toe, rtol=1e-6)
    # Ann's LASI is missing in frame 2: so are the joints that use it, and only there.
    missing = np.isnan(position[0]).any(axis=-1)
    uses_lasi = {"pelvis", "spine", "spine2", "left_hip"}
    assert {names[j] for j in np.flatnonzero(missing[2])} == uses_lasi
    assert missing.sum() == len(uses_lasi)
    assert joints.imputed_flags()[1, 3:, names.index("right_toe")].all()


def test_absent_markers_warn_and_are_missing(tmp_path):
    xyz = markers()[:, 1:]  # no LFHD
    path = write_c3d(tmp_path / "a.c3d", MARKERS[1:], xyz, np.ones(xyz.shape[:2]))
    with pytest.warns(UserWarning, match=r"a\.c3d: subject has no marker LFHD \(missing"):
        sequence = C3DReader().read(path)
    assert sequence.individuals == ["subject"]
    assert np.isnan(sequence.positions()[0, :, 0]).all()
    joints = Remap(to="mpi_inf_3dhp_28")(sequence)
    names = list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    lost = np.isnan(joints.positions()[0]).any(axis=(0, 2))
    assert sorted(names[j] for j in np.flatnonzero(lost)) == ["head", "head_top"]


@pytest.mark.parametrize("case, field, message", [
    ("units", "POINT:UNITS", "expected a length unit in ['cm', 'm', 'mm'], got 'in'"),
    ("labels", "POINT:LABELS", "expected marker labels of the marker set (LFHD"),
    ("twice", "POINT:LABELS", "marker LASI is labelled twice (points 1 and 2)"),
])
def test_errors_name_the_file_the_field_and_what_was_expected(tmp_path, case, field, message):
    xyz, labels, units = markers()[:, :2], ["LASI", "RASI"], "mm"
    if case == "units":
        units = "in"
    elif case == "labels":
        labels = ["Head", "Foot"]
    else:
        labels = ["LASI", "LASI"]
    path = write_c3d(tmp_path / "bad.c3d", labels, xyz, np.ones(xyz.shape[:2]), units=units)
    with pytest.raises(PoseFileError) as caught:
        C3DReader().read(path)
    text = str(caught.value)
    assert text.startswith(str(path)) and f"field {field}" in text and message in text


def test_not_a_c3d_file(tmp_path):
    path = tmp_path / "fake.c3d"
    path.write_bytes(b"hello, world")
    assert not C3DReader.sniff(path)
    with pytest.raises(PoseFileError, match=r"fake\.c3d.*expected a C3D file"):
        C3DReader().read(path)


def test_registered_and_runs_in_a_pipeline(two_subjects, tmp_path):
    path, _, _ = two_subjects
    assert C3DReader.sniff(path)
    registry = get_registry()
    assert registry.readers["c3d"].cls is C3DReader
    pipeline = {
        "input": {"path": "*.c3d", "reader": "c3d", "zero_residual": "measured"},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    done = subprocess.run([sys.executable, "-m", "posekit", "run", "pipeline.yaml", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = PoseSequence.read_netcdf(tmp_path / "out" / "walk.nc")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.individuals == ["Ann", "Bob"]
    assert out.fps == 100.0 and out.n_frames == FRAMES and not out.imputed_flags().any()
