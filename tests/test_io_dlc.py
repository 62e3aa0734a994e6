"""DeepLabCut reader: single- and multi-animal CSV, labelled data, 3D, H5, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from pose_files import DLC_LABELLED, DLC_MULTI, DLC_SINGLE, claimants

from posekit.core.errors import PoseFileError
from posekit.io.dlc import DeepLabCutReader
from posekit.plugins.registry import get_registry


def write(tmp_path: Path, text: str, name: str = "videoDLC_resnet50.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_registered_and_detected(tmp_path: Path) -> None:
    path = write(tmp_path, DLC_SINGLE)
    assert get_registry().entry("reader", "dlc").cls is DeepLabCutReader
    assert claimants(path) == ["dlc"]


def test_single_animal_predictions(tmp_path: Path) -> None:
    seq = DeepLabCutReader(fps=30).read(write(tmp_path, DLC_SINGLE))
    assert seq.keypoints == ["snout", "tailbase"] and seq.skeleton is None
    assert seq.individuals == ["id_0"] and seq.n_frames == 4 and seq.fps == 30.0
    positions, confidences = seq.positions()[0], seq.confidences()[0]
    assert positions[0, 0].tolist() == [10.5, 20.5] and confidences[0, 1] == pytest.approx(0.2)
    assert np.isnan(positions[2]).all() and np.isnan(confidences[2]).all()  # no row for frame 2
    assert np.isnan(positions[3, 0]).all() and positions[3, 1].tolist() == [33.0, 43.0]
    assert seq.dataset.attrs["source_software"] == "DeepLabCut"


def test_likelihood_threshold(tmp_path: Path) -> None:
    seq = DeepLabCutReader(confidence_threshold=0.5).read(write(tmp_path, DLC_SINGLE))
    assert np.isnan(seq.positions()[0, 0, 1]).all() and seq.confidences()[0, 0, 1] == pytest.approx(
        0.2
    )


def test_multi_animal(tmp_path: Path) -> None:
    seq = DeepLabCutReader().read(write(tmp_path, DLC_MULTI))
    assert seq.individuals == ["mouse1", "mouse2", "single"]
    assert seq.keypoints == ["snout", "corner"]
    positions = seq.positions()
    assert positions[1, 1, 0].tolist() == [5.5, 6.5]
    assert np.isnan(positions[0, :, 1]).all() and np.isnan(positions[2, :, 0]).all()
    assert positions[2, 0, 1].tolist() == [100.0, 100.0]


def test_labelled_data_with_image_index(tmp_path: Path) -> None:
    seq = DeepLabCutReader().read(write(tmp_path, DLC_LABELLED, "CollectedData_alex.csv"))
    assert seq.n_frames == 13
    positions, confidences = seq.positions()[0], seq.confidences()[0]
    assert positions[4, 0].tolist() == [10.0, 20.0] and np.isnan(positions[4, 1]).all()
    assert confidences[4, 0] == 1.0 and np.isnan(confidences[4, 1])
    assert positions[12, 1].tolist() == [31.0, 41.0]


def test_single_index_column_with_image_paths(tmp_path: Path) -> None:
    text = "scorer,alex,alex\nbodyparts,snout,snout\ncoords,x,y\nlabeled-data/s1/img007.png,1,2\n"
    seq = DeepLabCutReader().read(write(tmp_path, text))
    assert seq.n_frames == 8 and seq.positions()[0, 7, 0].tolist() == [1.0, 2.0]


def test_3d_coordinates(tmp_path: Path) -> None:
    text = "scorer,tri,tri,tri\nbodyparts,snout,snout,snout\ncoords,x,y,z\n0,1,2,3\n1,4,5,6\n"
    seq = DeepLabCutReader().read(write(tmp_path, text))
    assert seq.n_space == 3 and seq.positions()[0, 1, 0].tolist() == [4.0, 5.0, 6.0]


def test_skeleton_parameter_orders_the_body_parts(tmp_path: Path) -> None:
    from posekit.plugins.registry import get_skeleton

    names = list(get_skeleton("coco_17").joint_names)
    shuffled = names[::-1]
    header = [
        "scorer" + ",net" * 34,
        "bodyparts" + "".join(f",{n},{n}" for n in shuffled),
        "coords" + ",x,y" * 17,
    ]
    row = "0" + "".join(f",{k},{k + 0.5}" for k in range(17))
    path = write(tmp_path, "\n".join([*header, row]) + "\n")
    seq = DeepLabCutReader(skeleton="coco_17").read(path)
    assert seq.skeleton == "coco_17" and seq.keypoints == names
    assert seq.positions()[0, 0, 0].tolist() == [16.0, 16.5]  # nose was the last column pair
    assert seq.remap("mpi_inf_3dhp_28").n_keypoints == 28
    with pytest.raises(PoseFileError, match="not the joints of skeleton 'body_25'"):
        DeepLabCutReader(skeleton="body_25").read(path)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty", None),
        ("frame,x,y\n0,1,2\n", "header rows", 1),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,y\n", "header only", None),
        ("scorer,a,a\nbodyparts,s\ncoords,x,y\n0,1,2\n", "does not line up", 2),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,y\n0,1,2\n1,1\n", "2 cells", 5),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,y\n0,1,2\n1,1,abc\n", "got 'abc'", 5),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,y\n0,1,2\n0,1,2\n", "frame 0 repeats", 5),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,y\nimg.png,1,2\n", "no frame number", 4),
        ("scorer,a,a\nbodyparts,s,s\ncoords,x,w\n0,1,2\n", "coords", None),
        ("scorer,a,a,a\nbodyparts,s,s,s\ncoords,x,y,x\n0,1,2,3\n", "column repeats", None),
    ],
)
def test_malformed_csv(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PoseFileError, match=message) as caught:
        DeepLabCutReader().read(path)
    assert caught.value.path == str(path) and caught.value.line == line


def test_bad_cell_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, DLC_MULTI.replace("5.5", "five"))
    with pytest.raises(PoseFileError) as caught:
        DeepLabCutReader().read(path)
    assert caught.value.field == "mouse2 snout x" and caught.value.line == 6


def test_h5_without_tables_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tables", None)  # makes `import tables` fail
    path = tmp_path / "videoDLC_resnet50.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64 + b"df_with_missing")
    assert DeepLabCutReader.sniff(path)
    with pytest.raises(PoseFileError, match="pip install tables"):
        DeepLabCutReader().read(path)


def test_h5_round_trip_with_tables(tmp_path: Path) -> None:
    # The test extra installs posekit[dlc]: without it this test fails rather than skips,
    # so CI always reads a real .h5 file.
    import pandas as pd
    columns = pd.MultiIndex.from_product(
        [["net"], ["snout", "tail"], ["x", "y", "likelihood"]],
        names=["scorer", "bodyparts", "coords"],
    )
    frame = pd.DataFrame(np.arange(12.0).reshape(2, 6), columns=columns)
    path = tmp_path / "videoDLC_resnet50.h5"
    frame.to_hdf(path, key="df_with_missing", format="table")
    assert DeepLabCutReader.sniff(path)
    seq = DeepLabCutReader().read(path)
    assert seq.keypoints == ["snout", "tail"] and seq.positions()[0, 1, 1].tolist() == [9.0, 10.0]


def test_the_reader_choice_prefers_dlc_for_its_h5_files(tmp_path: Path) -> None:
    from posekit.io.choose import choose_reader

    path = tmp_path / "videoDLC_resnet50.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64 + b"df_with_missing")
    assert choose_reader(path).name == "dlc"
    assert choose_reader(tmp_path / "clip.nc").name == "netcdf"
    csv_path = tmp_path / "video.csv"
    csv_path.write_text(DLC_SINGLE)
    assert choose_reader(csv_path).name == "dlc"
