"""movement interop of issue 17: dim names, the netCDF reader's fps, and the confidence
of generated joints; and, where a Python with movement >= 0.17 is at hand, the files
read by movement itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from posekit.baselines.interpolate import Interpolate
from posekit.core.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.io.netcdf import NetcdfReader, NetcdfWriter


def gappy_sequence(fps: float | None = None) -> PoseSequence:
    position = np.tile(np.arange(6.0)[:, None, None, None], (1, 2, 3, 2))
    position[2:4, :, 1, 0] = np.nan  # a gap for interpolation to fill
    confidence = np.where(np.isfinite(position).all(axis=1), 0.8, np.nan)
    return PoseSequence.from_arrays(
        position, confidence, keypoints=["snout", "centre", "tail"], fps=fps
    )


def frame_numbered_file(path: Path, dims: tuple[str, str]) -> Path:
    """A movement poses file with integer frame times and no fps."""
    position = np.zeros((4, 2, 3, 1))
    xr.Dataset(
        {"position": (("time", "space", *dims), position)},
        coords={
            "time": np.arange(4),
            "space": ["x", "y"],
            dims[0]: ["a", "b", "c"],
            dims[1]: ["mouse"],
        },
        attrs={"ds_type": "poses", "time_unit": "frames", "source_software": "SLEAP"},
    ).to_netcdf(path)
    return path


@pytest.mark.parametrize("dims", [("keypoint", "individual"), ("keypoints", "individuals")])
def test_netcdf_fps_turns_frames_into_seconds(tmp_path: Path, dims: tuple[str, str]) -> None:
    path = frame_numbered_file(tmp_path / "a.nc", dims)
    seq = NetcdfReader(fps=20).read(path)
    assert seq.dataset["time"].values.tolist() == [0.0, 0.05, 0.1, 0.15]
    assert seq.fps == 20 and seq.dataset.attrs["time_unit"] == "seconds"
    assert seq.keypoints == ["a", "b", "c"] and seq.individuals == ["mouse"]


def test_netcdf_fps_of_the_file_wins_with_a_warning(tmp_path: Path) -> None:
    path = gappy_sequence(fps=25).to_netcdf(tmp_path / "a.nc")
    with pytest.warns(UserWarning, match="says 25 fps"):
        seq = NetcdfReader(fps=30).read(path)
    assert seq.fps == 25 and seq.dataset["time"].values[1] == 0.04


@pytest.mark.parametrize(
    ("legacy", "dims"), [(False, {"keypoint", "individual"}), (True, {"keypoints", "individuals"})]
)
def test_writer_dim_names(tmp_path: Path, legacy: bool, dims: set[str]) -> None:
    seq = gappy_sequence(fps=25)
    path = tmp_path / "a.nc"
    NetcdfWriter(legacy_dims=legacy).write(seq, path)
    with xr.open_dataset(path) as raw:
        assert dims <= set(raw.dims) and dims <= set(raw.coords)
    assert NetcdfReader().read(path) == seq


def test_generated_joints_have_the_documented_confidence() -> None:
    out = Interpolate()(gappy_sequence())
    generated = out.imputed_flags()
    assert generated.sum() == 2
    assert (out.confidences()[generated] == IMPUTED_CONFIDENCE).all()
    # a movement-style confidence filter (keep confidence >= 0.6) keeps them
    kept = out.dataset["position"].where(out.dataset["confidence"] >= 0.6)
    assert np.isfinite(kept.values).all()


def movement_python() -> str | None:
    """A Python that imports movement >= 0.17: $POSEKIT_MOVEMENT_PYTHON, else
    ``python3.12`` on the PATH; None when there is none."""
    candidates = [os.environ.get("POSEKIT_MOVEMENT_PYTHON"), shutil.which("python3.12")]
    for python in filter(None, candidates):
        check = subprocess.run(
            [python, "-c", ("import movement, sys; v = movement.__version__.split('.');"
                            "sys.exit(0 if (int(v[0]), int(v[1])) >= (0, 17) else 1)")],
            capture_output=True, check=False, timeout=120,
        )  # fmt: skip
        if check.returncode == 0:
            return python
    return None


def test_movement_reads_posekit_files_and_keeps_generated_joints(tmp_path: Path) -> None:
    python = movement_python()
    if python is None:
        pytest.skip("no Python with movement >= 0.17 (set POSEKIT_MOVEMENT_PYTHON)")
    out = Interpolate()(gappy_sequence(fps=25))
    ours = out.to_netcdf(tmp_path / "poses.nc")
    legacy = out.to_netcdf(tmp_path / "legacy.nc", legacy_dims=True)
    theirs = tmp_path / "from_movement.nc"
    script = textwrap.dedent(
        f"""
        import numpy as np
        import xarray as xr
        from movement.filtering import filter_by_confidence
        from movement.io import load_poses
        from movement.kinematics import compute_velocity

        ds = xr.open_dataset({str(ours)!r})
        assert ds.position.dims == ("time", "space", "keypoint", "individual"), ds.position.dims
        filtered = filter_by_confidence(ds.position, ds.confidence, threshold=0.6)
        assert int(filtered.isnull().sum()) == int(ds.position.isnull().sum()), "dropped"
        compute_velocity(ds.position)
        old = xr.open_dataset({str(legacy)!r})
        assert "keypoints" in old.dims
        made = load_poses.from_numpy(
            np.arange(24.0).reshape(3, 2, 2, 2), np.full((3, 2, 2), 0.7),
            individual_names=["a", "b"], keypoint_names=["nose", "tail"], fps=10,
            source_software="movement",
        )
        made.to_netcdf({str(theirs)!r})
        print("ok")
        """
    )
    done = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]
    made = NetcdfReader().read(theirs)
    assert made.keypoints == ["nose", "tail"] and made.individuals == ["a", "b"]
    assert made.fps == 10
    expected = np.arange(24.0).reshape(3, 2, 2, 2).transpose(3, 0, 2, 1)  # movement's order
    np.testing.assert_array_equal(made.positions(), expected)
