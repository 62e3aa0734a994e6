"""SLEAP: labels and predictions (``.slp``) and analysis files (``.h5``), via sleap-io.

sleap-io (talmolab/sleap-io) reads both: a ``.slp`` file holds the skeleton (node
names), the videos, the tracks and, per labelled frame, user-labelled and predicted
instances with point scores; an analysis ``.h5`` (``sleap-convert --format
analysis``) holds the same as arrays for one video (``tracks``, ``node_names``,
``track_names``, ``point_scores``). sleap-io is an optional dependency
(``pip install 'posekit[sleap]'``), imported only when such a file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._notes import noted
from posekit.io._records import is_hdf5_naming, read_head_bytes
from posekit.io._values import checked_fps, usable_confidence, usable_points
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Names that SLEAP's files hold near their start (dataset and group names).
_SLP_MARKS = (b"videos_json", b"tracks_json")
_ANALYSIS_MARKS = (b"node_names", b"track_occupancy")


@attrs.frozen
class SleapReader:
    """Read a SLEAP ``.slp`` labels/predictions file or an analysis ``.h5`` file.

    Parameters
    ----------
    video
        Index of the video to read in a project with several (``.slp``); default 0.
    fps
        Frames per second (SLEAP files do not store it); None gives time in frames.
    skeleton
        A posekit skeleton name whose joint names are the file's node names, in
        order (animals' skeletons are usually not posekit's: then the sequence has
        no ``skeleton`` and keeps the node names).
    predicted_only
        Read predicted instances only; default user-labelled instances where a
        frame has both (SLEAP's preference).

    Notes
    -----
    Individuals are SLEAP's tracks (``id`` = track name). A file without tracks has
    instances in no particular order: they become ``id_0, id_1, ...`` per frame, with a
    warning and a ``read`` log entry saying that these ids are no tracks. Missing
    points are NaN; confidence is the point score (NaN for user-labelled points,
    which have none). The frame axis runs from 0 to the last labelled frame.

    Examples
    --------
    >>> import tempfile
    >>> import sleap_io as sio  # doctest: +SKIP
    >>> skeleton = sio.Skeleton(["head", "tail"])  # doctest: +SKIP
    >>> video = sio.Video(filename="clip.mp4", open_backend=False)  # doctest: +SKIP
    >>> frame = sio.LabeledFrame(video=video, frame_idx=2, instances=[
    ...     sio.Instance.from_numpy(np.array([[1.0, 2.0], [3.0, 4.0]]), skeleton=skeleton)])
    ... # doctest: +SKIP
    >>> path = Path(tempfile.mkdtemp()) / "a.slp"  # doctest: +SKIP
    >>> sio.save_slp(sio.Labels([frame]), path)  # doctest: +SKIP
    >>> SleapReader().read(path).n_frames  # doctest: +SKIP
    3
    """

    suffixes: ClassVar[tuple[str, ...]] = (".slp", ".h5")
    video: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    fps: float | None = None
    skeleton: str | None = None
    predicted_only: bool = False

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for HDF5 files naming SLEAP's datasets near their start."""
        marks = _SLP_MARKS if path.suffix.lower() == ".slp" else _ANALYSIS_MARKS
        return is_hdf5_naming(read_head_bytes(path), marks)

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If sleap-io is not installed, cannot read the file, the video index is out
            of range, or ``skeleton`` does not name the file's nodes.
        """
        path = Path(path)
        fps = checked_fps(path, self.fps)
        try:
            import sleap_io
        except ImportError:
            raise PoseFileError(
                path, "reading SLEAP files needs sleap-io: pip install 'posekit[sleap]'"
            ) from None
        try:
            labels = sleap_io.load_file(str(path))
        except Exception as err:  # noqa: BLE001  (any failure of the parser is the file's)
            raise PoseFileError(path, f"sleap-io cannot read it: {err}") from None
        if not isinstance(labels, sleap_io.Labels):
            raise PoseFileError(path, "expected SLEAP labels or an analysis file, not a video")
        if not labels.skeletons or not labels.videos:
            raise PoseFileError(path, "no skeleton or no video: nothing to read")
        if self.video >= len(labels.videos):
            raise PoseFileError(
                path, f"video {self.video} asked for; the file has {len(labels.videos)}",
                field="video",
            )
        if len(labels.skeletons) > 1:
            raise PoseFileError(
                path, f"{len(labels.skeletons)} skeletons; posekit reads files with one"
            )
        nodes = list(labels.skeletons[0].node_names)
        if self.skeleton is not None and tuple(nodes) != get_skeleton(self.skeleton).joint_names:
            raise PoseFileError(
                path,
                f"the nodes ({', '.join(nodes)}) are not the joints of skeleton "
                f"{self.skeleton!r}",
                field="skeleton",
            )
        tracked = bool(labels.tracks)
        values = labels.numpy(
            video=self.video,
            untracked=not tracked,
            return_confidence=True,
            user_instances=not self.predicted_only,
        )  # (frames, individuals, nodes, x y score)
        if values.shape[1] == 0:
            raise PoseFileError(path, "no instance in any frame")
        individuals = (
            _unique([track.name for track in labels.tracks])
            if tracked
            else [f"id_{i}" for i in range(values.shape[1])]
        )
        points = usable_points(path, values[..., :2])
        confidence = usable_confidence(path, values[..., 2])
        sequence = PoseSequence.from_arrays(
            np.ascontiguousarray(points.transpose(0, 3, 2, 1)),
            np.ascontiguousarray(confidence.transpose(0, 2, 1)),
            skeleton=self.skeleton,
            keypoints=nodes,
            individuals=individuals,
            fps=fps,
            source_software="SLEAP",
            source_file=str(path),
        )
        if not tracked:
            sequence = noted(
                sequence,
                "sleap",
                f"{path}: the file has no tracks; individuals are the instances of each "
                "frame in file order, not the same animal over time",
            )
        return sequence


def _unique(names: list[str]) -> list[str]:
    """Track names made unique (SLEAP allows two tracks of one name)."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the SLEAP reader."""
    registry.add_reader("sleap", SleapReader)
