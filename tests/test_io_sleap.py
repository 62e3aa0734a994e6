"""The SLEAP reader (.slp and analysis .h5 through sleap-io), issue 17."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from posekit.core.errors import PoseFileError
from posekit.io._values import ValueRepairWarning
from posekit.io.choose import choose_reader
from posekit.io.sleap import SleapReader

sio = pytest.importorskip("sleap_io")

NODES = ["head", "thorax", "tail"]


def sleap_labels(*, tracked: bool = True, n_videos: int = 1, user_frame: int | None = None):
    """Frames 0, 2, 4 and 6 of a video; two mice, mouse_b absent in frame 4; the tail
    never found. ``user_frame`` adds a user-labelled mouse_a in that frame."""
    skeleton = sio.Skeleton(list(NODES))
    videos = [sio.Video(filename=f"clip{v}.mp4", open_backend=False) for v in range(n_videos)]
    tracks = [sio.Track("mouse_a"), sio.Track("mouse_b")] if tracked else []
    frames = []
    for f in range(4):
        instances = []
        for t in range(2):
            if f == 2 and t == 1:
                continue
            points = np.array([[10.0 + f, 20.0 + 50 * t], [12.0 + f, 30.0 + 50 * t], [np.nan] * 2])
            instances.append(
                sio.PredictedInstance.from_numpy(
                    points,
                    skeleton=skeleton,
                    point_scores=np.array([0.9, 0.8, 0.0]),
                    score=0.95,
                    track=tracks[t] if tracked else None,
                )
            )
        if user_frame == 2 * f:
            points = np.array([[100.0, 100.0], [101.0, 101.0], [102.0, 102.0]])
            instances.append(
                sio.Instance.from_numpy(points, skeleton=skeleton, track=tracks[0])
            )
        frames.append(sio.LabeledFrame(video=videos[0], frame_idx=2 * f, instances=instances))
    return sio.Labels(labeled_frames=frames, videos=videos, skeletons=[skeleton], tracks=tracks)


@pytest.mark.parametrize("suffix", [".slp", ".h5"])
def test_tracked_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"mice{suffix}"
    save = sio.save_slp if suffix == ".slp" else sio.save_analysis_h5
    save(sleap_labels(), str(path))
    assert choose_reader(path).name == "sleap"
    seq = SleapReader(fps=30).read(path)
    assert seq.individuals == ["mouse_a", "mouse_b"] and seq.keypoints == NODES
    assert seq.n_frames == 7 and seq.fps == 30 and seq.skeleton is None
    position = seq.positions()
    assert position[0, :, 0, 0].tolist()[::2] == [10.0, 11.0, 12.0, 13.0]
    assert np.isnan(position[:, 1::2]).all()  # frames nobody was labelled in
    assert np.isnan(position[1, 4]).all() and np.isnan(position[:, :, 2]).all()
    assert seq.confidences()[1, 0, 1] == pytest.approx(0.8)


def test_untracked_instances_are_said_to_be_no_tracks(tmp_path: Path) -> None:
    path = tmp_path / "mice.slp"
    sio.save_slp(sleap_labels(tracked=False), str(path))
    with pytest.warns(UserWarning, match="no tracks"):
        seq = SleapReader().read(path)
    assert seq.individuals == ["id_0", "id_1"] and "no tracks" in seq.log[0]["parameters"]["note"]


def test_user_labels_are_preferred_unless_predictions_asked(tmp_path: Path) -> None:
    path = tmp_path / "mice.slp"
    sio.save_slp(sleap_labels(user_frame=2), str(path))
    assert SleapReader().read(path).positions()[0, 2, 0, 0] == 100.0
    assert SleapReader(predicted_only=True).read(path).positions()[0, 2, 0, 0] == 11.0


def test_video_index_and_skeleton_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "mice.slp"
    sio.save_slp(sleap_labels(), str(path))
    with pytest.raises(PoseFileError, match="video 3 asked for; the file has 1"):
        SleapReader(video=3).read(path)
    with pytest.raises(PoseFileError, match="not the joints of skeleton 'coco_17'"):
        SleapReader(skeleton="coco_17").read(path)


def test_a_broken_file_is_a_pose_file_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.slp"
    path.write_bytes(b"\x89HDF\r\n\x1a\nnot really")
    with pytest.raises(PoseFileError, match="sleap-io cannot read it"):
        SleapReader().read(path)


def test_without_sleap_io_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mice.slp"
    sio.save_slp(sleap_labels(), str(path))
    monkeypatch.setitem(sys.modules, "sleap_io", None)
    with pytest.raises(PoseFileError, match=r"pip install 'posekit\[sleap\]'"):
        SleapReader().read(path)


def test_other_hdf5_files_are_not_claimed(tmp_path: Path) -> None:
    from posekit.core.sequence import PoseSequence

    netcdf = tmp_path / "poses.h5"
    PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17").to_netcdf(netcdf)
    assert not SleapReader.sniff(netcdf)
    assert choose_reader(netcdf).name == "netcdf"
    analysis = tmp_path / "mice.h5"
    sio.save_analysis_h5(sleap_labels(), str(analysis))
    assert choose_reader(analysis).name == "sleap"


def test_sleap_values_follow_the_readers_value_rules(tmp_path: Path) -> None:
    """A huge coordinate and a negative score are repaired with a warning; a bad fps is
    refused, as by every reader (posekit.io._values)."""
    labels = sleap_labels()
    instance = labels.labeled_frames[1].instances[0]
    instance.points["xy"][0] = [1e12, 20.0]
    instance.points["score"][1] = -0.5
    path = tmp_path / "mice.slp"
    sio.save_slp(labels, str(path))
    with pytest.warns(ValueRepairWarning) as caught:
        seq = SleapReader().read(path)
    said = " ".join(str(w.message) for w in caught)
    assert "1 keypoint with an infinite or huge" in said and "1 negative" in said
    assert np.isnan(seq.positions()[0, 2, 0]).all() and np.isnan(seq.confidences()[0, 2, 1])
    assert seq.positions()[0, 2, 1].tolist() == [13.0, 30.0]
    with pytest.raises(PoseFileError, match="field fps: expected a positive finite number"):
        SleapReader(fps=0).read(path)
