"""COCO keypoints: annotation files and keypoint results files.

The COCO data format (cocodataset.org/#format-data, "keypoint detection"):

- an annotation file is ``{"images": [{"id", "file_name", ...}], "annotations":
  [{"image_id", "category_id", "keypoints": [x, y, v, ...], ...}], "categories":
  [{"id", "name", "keypoints": [names], "skeleton": [...]}]}``, where ``v`` is 0 (not
  labelled; x = y = 0), 1 (labelled, not visible) or 2 (labelled and visible);
- a results file (cocodataset.org/#format-results) is ``[{"image_id",
  "category_id", "keypoints": [x, y, score, ...], "score"}]``.

Images are frames: in an annotation file every image is one frame, in the order of
the image ids (or of the file names, ``frame_order="file_name"``); in a results file
the frames are the distinct image ids in order (COCO ids are not frame numbers, so
gaps between ids are no frame gaps; AlphaPose's reader, which reads the same layout,
treats image ids as frame numbers). PoseTrack-style ``track_id`` fields make the
individuals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.presence import DEFAULT_MAX_GAP
from posekit.core.sequence import PoseSequence
from posekit.io._layout_check import same_size_skeletons
from posekit.io._records import (
    as_float,
    is_id,
    layout_for,
    load_json,
    numeric_rows,
    read_head,
    track_id,
)
from posekit.io.frame_order import natural_key
from posekit.io.tracking import DEFAULT_MAX_DISTANCE, Tracking, tracked_sequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Skeleton of a results record by its number of keypoints (133: COCO-WholeBody's body).
LAYOUTS: dict[int, str] = {17: "coco_17", 133: "coco_wholebody_23"}
#: Whole-body annotations without keypoint names whose body part a skeleton names.
WHOLE_BODY: dict[int, str] = {133: "coco_wholebody_23", 136: "halpe_26"}
_NUMERIC_IMAGE_ID = re.compile(r'"image_id"\s*:\s*-?\d')
_ANNOTATION_KEYS = ('"annotations"', '"images"', '"categories"')


@attrs.frozen
class _Records:
    """Records of one category, flattened."""

    names: list[str] = attrs.field(factory=list)
    image_ids: list[int | str] = attrs.field(factory=list)
    keypoints: list[Any] = attrs.field(factory=list)
    scores: list[float] = attrs.field(factory=list)
    tracks: list[int | None] = attrs.field(factory=list)


def _collect(path: Path, items: list[Any], prefix: str, category: int | None) -> _Records:
    """Annotations or results of ``category`` (all when None), with checked fields."""
    found = _Records()
    for i, item in enumerate(items):
        record = f"{prefix}[{i}]"
        if type(item) is not dict:
            raise PoseFileError(path, "expected an object", record=record)
        if category is not None and item.get("category_id") != category:
            continue
        image_id = item.get("image_id")
        if not is_id(image_id):
            raise PoseFileError(path, "expected an id", record=record, field="image_id")
        if type(item.get("keypoints")) is not list:
            raise PoseFileError(path, "missing or not a list", record=record, field="keypoints")
        score = as_float(item.get("score", np.nan))
        if score is None:
            raise PoseFileError(path, "expected a number", record=record, field="score")
        track = None
        if "track_id" in item:
            track = track_id(item["track_id"])
            if track is None:
                raise PoseFileError(path, "expected a number", record=record, field="track_id")
        found.names.append(record)
        found.image_ids.append(image_id)
        found.keypoints.append(item["keypoints"])
        found.scores.append(score)
        found.tracks.append(track)
    return found


def _sorted_ids(path: Path, ids: list[int | str], field: str) -> list[int | str]:
    """Distinct ids in order: numbers by value, strings naturally ("img2" < "img10")."""
    if len({type(i) for i in ids}) > 1:
        raise PoseFileError(path, "image ids mix numbers and strings", field=field)
    return sorted(set(ids), key=natural_key)


@attrs.frozen
class CocoReader:
    """Read a COCO keypoint annotation file or a COCO keypoint results file.

    Parameters
    ----------
    fps
        Frames per second (COCO files have none); None gives time in frames.
    confidence_threshold
        Keypoints with a lower confidence lose their position; the confidence is kept.
    skeleton
        Skeleton name when the keypoints follow another layout than COCO-17 (for
        annotation files: then keypoints are named after it). Needed for annotation
        files whose category names no keypoints (Halpe's): the annotations' keypoint
        count must fit it, or be a whole-body count whose body part it is (136 for
        ``halpe_26``, 133 for ``coco_wholebody_23``; the other keypoints are dropped).
    category_id
        The category to read; default the one category with keypoints (annotation
        files), or every record (results files).
    frame_order
        Order of the images (= frames) of an annotation file: by ``"image_id"`` or
        by ``"file_name"``.
    tracking
        Individuals when the records have no ``track_id`` (:mod:`posekit.io.tracking`):
        ``auto`` links detections into tracks, ``rank`` makes ``id_0`` the first
        annotation of each image or the highest ``score`` of a results file (the
        behaviour before posekit tracked), ``none`` refuses such files.
    track_max_gap
        Frames a track may be missing and still continue (``tracking: auto``).
    track_max_distance
        Farthest link between frames, in person sizes (``tracking: auto``).

    Notes
    -----
    Annotations: ``v = 0`` keypoints are missing (NaN); the confidence is ``v / 2``
    (0.5 labelled but hidden, 1 visible), so ``confidence_threshold=0.75`` keeps the
    visible ones only. Annotations without any labelled keypoint (crowd regions) are
    skipped. Results: the keypoint scores are the confidences, ``0, 0, 0`` is missing.
    With ``track_id`` on every record (unique within an image) individuals are
    ``id_<track>``; otherwise ``tracking`` assigns them and the provenance log says so
    (``individuals``).

    Examples
    --------
    >>> import json, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "person_keypoints.json"
    >>> names = list(get_skeleton("coco_17").joint_names)
    >>> coco = {"images": [{"id": 7, "file_name": "b.jpg"}, {"id": 3, "file_name": "a.jpg"}],
    ...         "categories": [{"id": 1, "name": "person", "keypoints": names}],
    ...         "annotations": [{"image_id": 7, "category_id": 1,
    ...                          "keypoints": [5, 6, 2] * 17}]}
    >>> _ = path.write_text(json.dumps(coco))
    >>> seq = CocoReader().read(path)
    >>> seq.skeleton, seq.n_frames, bool(np.isnan(seq.positions()[0, 0]).all())
    ('coco_17', 2, True)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    fps: float | None = None
    confidence_threshold: float | None = None
    skeleton: str | None = None
    category_id: int | None = None
    frame_order: Literal["image_id", "file_name"] = attrs.field(
        default="image_id", validator=attrs.validators.in_(("image_id", "file_name"))
    )
    tracking: Tracking = "auto"
    track_max_gap: int = DEFAULT_MAX_GAP
    track_max_distance: float = DEFAULT_MAX_DISTANCE

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for a JSON object with COCO's sections, or a list of results with
        numeric image ids and none of AlphaPose's or MMPose's own fields."""
        head = read_head(path).lstrip()
        if head.startswith("{"):
            return any(key in head for key in _ANNOTATION_KEYS) and '"instance_info"' not in head
        return (
            head.startswith("[")
            and _NUMERIC_IMAGE_ID.search(head) is not None
            and '"keypoints"' in head
            and not any(key in head for key in ('"idx"', '"box"', '"keypoint_scores"'))
        )

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If the file is not COCO's JSON, or a record is malformed (naming it, e.g.
            ``annotations[4]``, and the field).
        """
        path = Path(path)
        data = load_json(path)
        if isinstance(data, dict):
            return self._read_annotations(path, data)
        if isinstance(data, list):
            return self._read_results(path, data)
        raise PoseFileError(path, "expected a COCO annotation object or a list of results")

    def _category(self, path: Path, data: dict[str, Any]) -> dict[str, Any]:
        categories = data.get("categories")
        if type(categories) is not list:
            raise PoseFileError(path, "missing or not a list", field="categories")
        with_keypoints = [
            c for c in categories if type(c) is dict and type(c.get("keypoints")) is list
        ] or [c for c in categories if type(c) is dict]  # Halpe's categories name none
        chosen = [
            c for c in with_keypoints if self.category_id is None or c.get("id") == self.category_id
        ]
        if len(chosen) != 1:
            ids = [c.get("id") for c in with_keypoints]
            wanted = "" if self.category_id is None else f" with id {self.category_id}"
            raise PoseFileError(
                path,
                f"expected one category{wanted} with keypoints, found {len(chosen)} "
                f"(categories with keypoints: {ids}); pass 'category_id'",
                field="categories",
            )
        category = chosen[0]
        names = category.get("keypoints")
        if names is None:  # Halpe's categories name no keypoints
            names = []
        if (
            type(names) is not list
            or not all(type(n) is str for n in names)
            or len(set(names)) != len(names)
        ):
            raise PoseFileError(
                path,
                "expected distinct keypoint names",
                record=f"category {category.get('id')}",
                field="keypoints",
            )
        return category

    def _read_annotations(self, path: Path, data: dict[str, Any]) -> PoseSequence:
        category = self._category(path, data)
        names: list[str] = category.get("keypoints") or []
        n_values = len(names)
        if not names:
            names, n_values = self._unnamed_layout(path, data, category)
        if self.skeleton is not None:
            layout = layout_for(path, len(names), {}, self.skeleton, field="categories")
            skeleton, keypoints = layout.skeleton, list(layout.keypoints)
        elif tuple(names) == get_skeleton("coco_17").joint_names:
            skeleton, keypoints = "coco_17", names
        else:
            skeleton, keypoints = None, names
        images = data.get("images")
        if type(images) is not list:
            raise PoseFileError(path, "missing or not a list", field="images")
        keys: dict[int | str, int | str] = {}
        for i, image in enumerate(images):
            image_id = image.get("id") if type(image) is dict else None
            if not is_id(image_id) or image_id in keys:
                raise PoseFileError(
                    path, "expected a distinct id", record=f"images[{i}]", field="id"
                )
            key = image_id if self.frame_order == "image_id" else image.get("file_name")
            if not is_id(key):
                raise PoseFileError(
                    path, "expected a string", record=f"images[{i}]", field=self.frame_order
                )
            keys[image_id] = key
        order = _sorted_ids(path, list(keys.values()), "images")
        rank = {key: frame for frame, key in enumerate(order)}
        annotations = data.get("annotations")
        if type(annotations) is not list:
            raise PoseFileError(path, "missing or not a list", field="annotations")
        found = _collect(path, annotations, "annotations", category.get("id"))
        frames = np.empty(len(found.names), dtype=np.int64)
        for i, image_id in enumerate(found.image_ids):
            if image_id not in keys:
                raise PoseFileError(
                    path, f"no image with id {image_id!r}", record=found.names[i], field="image_id"
                )
            frames[i] = rank[keys[image_id]]
        xyv = self._values(path, found, n_values)[:, : len(names)]
        labelled = (xyv[..., 2] > 0).any(axis=1)
        keep = np.flatnonzero(labelled)
        if not len(keep):
            raise PoseFileError(path, "no annotation with a labelled keypoint", field="annotations")
        xyv, frames = xyv[keep], frames[keep]
        tracks = [found.tracks[i] for i in keep]
        visibility = np.clip(xyv[..., 2], 0.0, 2.0)
        return self._sequence(
            path,
            frames=frames,
            points=xyv[..., :2],
            confidence=np.where(visibility > 0, visibility / 2.0, np.nan),
            missing=visibility <= 0,
            tracks=tracks,
            scores=None,
            skeleton=skeleton,
            keypoints=keypoints,
            n_frames=len(order),
        )

    def _unnamed_layout(
        self, path: Path, data: dict[str, Any], category: dict[str, Any]
    ) -> tuple[list[str], int]:
        """Keypoint names for a category that names none (Halpe): the ``skeleton``'s,
        which must fit the annotations' keypoint count (or be its whole-body part);
        with that count."""
        annotations = data.get("annotations")
        first = next(
            (
                a["keypoints"]
                for a in (annotations if type(annotations) is list else [])
                if type(a) is dict
                and type(a.get("keypoints")) is list
                and a.get("category_id") == category.get("id")
            ),
            None,
        )
        record = f"category {category.get('id')}"
        if first is None or len(first) % 3:
            raise PoseFileError(
                path, "names no keypoints and no annotation has x, y, v keypoints",
                record=record, field="keypoints",
            )
        count = len(first) // 3
        if self.skeleton is None:
            fitting = sorted(
                {s.name for s in same_size_skeletons(count)}
                | ({WHOLE_BODY[count]} if count in WHOLE_BODY else set())
            )
            hint = f" (a layout of {count}: {', '.join(fitting)})" if fitting else ""
            raise PoseFileError(
                path,
                f"names no keypoints (Halpe-style annotations, {count} keypoints each); "
                f"pass the reader parameter 'skeleton' with their layout{hint}",
                record=record,
                field="keypoints",
            )
        layout = layout_for(path, count, WHOLE_BODY, self.skeleton, record=record,
                            field="keypoints")
        return list(layout.keypoints), count

    def _read_results(self, path: Path, data: list[Any]) -> PoseSequence:
        if self.frame_order != "image_id":
            raise PoseFileError(
                path, "a results file has no file names; use frame_order='image_id'"
            )
        found = _collect(path, data, "", self.category_id)
        if not found.names:
            raise PoseFileError(path, "no results in the file")
        first = found.keypoints[0]
        if len(first) == 0 or len(first) % 3:
            raise PoseFileError(
                path,
                f"{len(first)} values: expected x, y, score for each keypoint",
                record=found.names[0],
                field="keypoints",
            )
        layout = layout_for(
            path, len(first) // 3, LAYOUTS, self.skeleton, record=found.names[0], field="keypoints"
        )
        xyc = self._values(path, found, len(first) // 3)[:, : layout.n_keypoints]
        order = _sorted_ids(path, found.image_ids, "image_id")
        rank = {image_id: frame for frame, image_id in enumerate(order)}
        frames = np.array([rank[i] for i in found.image_ids], dtype=np.int64)
        return self._sequence(
            path,
            frames=frames,
            points=xyc[..., :2],
            confidence=xyc[..., 2],
            missing=(xyc == 0).all(axis=-1),
            tracks=found.tracks,
            scores=np.array(found.scores),
            skeleton=layout.skeleton,
            keypoints=layout.keypoints,
            n_frames=None,
        )

    def _sequence(
        self,
        path: Path,
        *,
        frames: np.ndarray,
        points: np.ndarray,
        confidence: np.ndarray,
        missing: np.ndarray,
        tracks: list[int | None],
        scores: np.ndarray | None,
        skeleton: str | None,
        keypoints: Sequence[str],
        n_frames: int | None,
    ) -> PoseSequence:
        """The records as a sequence: individuals by ``track_id`` or, without, as
        ``tracking`` says (:func:`~posekit.io.tracking.tracked_sequence`)."""
        return tracked_sequence(
            path, frames=frames, points=points, confidence=confidence, missing=missing,
            tracks=tracks, scores=scores, tracking=self.tracking,
            max_gap=self.track_max_gap, max_distance=self.track_max_distance,
            skeleton=skeleton, keypoints=keypoints, fps=self.fps,
            confidence_threshold=self.confidence_threshold, source_software="COCO",
            n_frames=n_frames,
        )  # fmt: skip

    @staticmethod
    def _values(path: Path, found: _Records, n_keypoints: int) -> np.ndarray:
        """``(n, K, 3)`` values; every record must hold ``3 K`` numbers."""
        for name, keypoints in zip(found.names, found.keypoints, strict=True):
            if len(keypoints) != 3 * n_keypoints:
                raise PoseFileError(
                    path,
                    f"{len(keypoints)} values; expected {3 * n_keypoints} "
                    f"(x, y, v for {n_keypoints} keypoints)",
                    record=name,
                    field="keypoints",
                )

        def locate(i: int) -> tuple[Path, str]:
            return path, found.names[i]

        values = numeric_rows(found.keypoints, locate, "keypoints")
        return values.reshape(len(found.names), n_keypoints, 3)


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the COCO reader."""
    registry.add_reader("coco", CocoReader)
