"""The netcdf reader reads movement's poses files.

movement itself is not a test dependency: ``pip install movement`` (0.15) pulls in
OpenCV, numba, Cartopy, Qt bindings, skia-python, pynwb and more, and pins an older
netCDF4. The files here are written in the layout of movement's
``ValidPosesInputs.to_dataset`` (movement/validators/datasets.py, 0.15): variables
``position (time, space, keypoints, individuals)`` and ``confidence (time, keypoints,
individuals)``, integer frame times without fps or seconds with it, and the attrs
``source_software``, ``ds_type``, ``time_unit`` (and ``fps``, ``source_file``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pose_files import claimants

from posekit.io.netcdf import NetcdfReader


def movement_dataset(fps: float | None) -> xr.Dataset:
    rng = np.random.default_rng(3)
    n_frames = 5
    attrs: dict[str, object] = {"source_software": "DeepLabCut", "ds_type": "poses"}
    if fps is None:
        time = np.arange(n_frames, dtype=np.int64)
        attrs["time_unit"] = "frames"
    else:
        time = np.arange(n_frames, dtype=np.float64) / fps
        attrs.update(time_unit="seconds", fps=fps)
    attrs["source_file"] = "/data/mouse_videoDLC_resnet50.h5"
    dims = ("time", "space", "keypoints", "individuals")
    position = rng.uniform(0, 100, (n_frames, 2, 3, 2)).astype(np.float32)
    position[1, :, 0, 1] = np.nan
    return xr.Dataset(
        {
            "position": xr.DataArray(position, dims=dims),
            "confidence": xr.DataArray(
                rng.uniform(0, 1, (n_frames, 3, 2)), dims=dims[:1] + dims[2:]
            ),
        },
        coords={
            "time": time,
            "space": ["x", "y"],
            "keypoints": ["snout", "centre", "tail_base"],
            "individuals": ["individual_0", "individual_1"],
        },
        attrs=attrs,
    )


@pytest.mark.parametrize("fps", [None, 30.0])
def test_reads_movement_poses_files(tmp_path: Path, fps: float | None) -> None:
    dataset = movement_dataset(fps)
    path = tmp_path / "mouse.nc"
    dataset.to_netcdf(path)
    assert "netcdf" in claimants(path)
    seq = NetcdfReader(skeleton=None).read(path)
    assert seq.keypoints == ["snout", "centre", "tail_base"]
    assert seq.individuals == ["individual_0", "individual_1"]
    assert seq.fps == fps and seq.skeleton is None
    assert seq.dataset.attrs["source_software"] == "DeepLabCut"
    np.testing.assert_array_equal(
        seq.positions(),
        dataset["position"].transpose("individuals", "time", "keypoints", "space").values,
    )
    np.testing.assert_array_equal(
        seq.confidences(),
        dataset["confidence"].transpose("individuals", "time", "keypoints").values,
    )
    assert not seq.imputed_flags().any() and seq.log == []


FIXTURE = Path(__file__).parent / "fixtures" / "movement"


def test_reads_a_file_written_by_movement_itself():
    """``poses.nc`` was written by movement 0.15 (see its make_fixture.py)."""
    from posekit.io.netcdf import NetcdfReader

    path = FIXTURE / "poses.nc"
    assert NetcdfReader.sniff(path)
    sequence = NetcdfReader(skeleton="coco_17").read(path)
    arrays = np.load(FIXTURE / "poses_arrays.npz")
    np.testing.assert_array_equal(sequence.dataset["position"].values, arrays["position"])
    np.testing.assert_array_equal(sequence.dataset["confidence"].values, arrays["confidence"])
    assert sequence.individuals == ["mouse", "rat"] and sequence.fps == 30.0
    assert sequence.remap("mpi_inf_3dhp_28").n_keypoints == 28
