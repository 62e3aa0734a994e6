"""The ``c3d`` reader: marker trajectories of a C3D motion-capture file.

A C3D file stores, per frame, the ``x, y, z`` position and a residual of every point
named in ``POINT:LABELS`` (continued in ``LABELS2``, ``LABELS3``, ...), in
``POINT:UNITS`` at ``POINT:RATE`` frames per second. The file is parsed by ``ezc3d``.

The reader keeps the points that are markers of a marker set (a posekit skeleton
whose joints are marker labels, by default ``plug_in_gait_39``) and returns a 3D
:class:`~posekit.core.sequence.PoseSequence` in metres with that skeleton; ``remap: {to:
mpi_inf_3dhp_28}`` then turns the markers into joints (weighted sums of markers).

- **Subjects.** A label ``"Alice:LASI"`` (Vicon's ``Subject:Marker``) is marker
  ``LASI`` of individual ``Alice``; a label without prefix belongs to individual
  ``subject``. Labels that are no marker of the set are ignored (other subjects'
  extra markers, virtual points, model outputs).
- **Residuals** (the C3D convention): negative means invalid, so the marker is
  missing in that frame (position and confidence NaN); zero means the point was not
  measured (interpolated, filtered or modelled), so it is kept and flagged
  ``imputed`` (``zero_residual: measured`` keeps it as measured); positive is a
  measured point, confidence 1.
- **Absent markers.** A marker of the set that the file does not have is missing in
  every frame, with a warning naming it; joints that use it become missing after
  ``remap``. A file with none of the set's markers is an error.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import ClassVar, Literal

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Metres per unit of ``POINT:UNITS``.
UNITS = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
#: The individual of labels without a ``Subject:`` prefix.
DEFAULT_SUBJECT = "subject"


def _labels(points: dict) -> list[str]:
    """``POINT:LABELS`` followed by ``LABELS2``, ``LABELS3``, ... (stripped)."""
    labels = list(points["LABELS"]["value"])
    extra = 2
    while f"LABELS{extra}" in points:
        labels += list(points[f"LABELS{extra}"]["value"])
        extra += 1
    return [str(label).strip() for label in labels]


def _scalar(path: Path, points: dict, name: str) -> str | float:
    """The first value of parameter ``POINT:<name>``."""
    values = points.get(name, {}).get("value")
    if values is None or len(values) == 0:
        raise PoseFileError(path, "expected this parameter in the POINT group",
                            field=f"POINT:{name}")
    return values[0]


@attrs.frozen
class C3DReader:
    """Read the marker trajectories of a C3D file as a 3D pose sequence (metres).

    Parameters
    ----------
    markers
        Name of the marker-set skeleton whose joints are the marker labels to keep.
    zero_residual
        What a residual of 0 means: ``imputed`` (the C3D convention: interpolated,
        filtered or modelled; flagged imputed) or ``measured``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import ezc3d
    >>> c3d = ezc3d.c3d()
    >>> c3d["parameters"]["POINT"]["RATE"]["value"] = [100]
    >>> c3d["parameters"]["POINT"]["LABELS"]["value"] = ("Ann:LASI", "Ann:RASI")
    >>> c3d["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    >>> c3d["data"]["points"] = np.ones((4, 2, 5))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.c3d"
    >>> c3d.write(str(path))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 37 markers of the set are absent
    ...     sequence = C3DReader().read(path)
    >>> sequence.skeleton, sequence.individuals, sequence.n_frames, sequence.fps
    ('plug_in_gait_39', ['Ann'], 5, 100.0)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".c3d",)
    markers: str = "plug_in_gait_39"
    zero_residual: Literal["imputed", "measured"] = "imputed"

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if byte 2 of the header is 0x50, the C3D signature."""
        with open(path, "rb") as handle:
            header = handle.read(2)
        return len(header) == 2 and header[1] == 0x50

    def read(self, path: Path) -> PoseSequence:
        """Read the file."""
        import ezc3d

        path = Path(path)
        try:
            c3d = ezc3d.c3d(str(path))
        except (OSError, RuntimeError, ValueError) as err:
            raise PoseFileError(path, f"expected a C3D file ({err})") from None
        points = c3d["parameters"]["POINT"]
        unit = str(_scalar(path, points, "UNITS")).strip().lower()
        if unit not in UNITS:
            raise PoseFileError(path, f"expected a length unit in {sorted(UNITS)}, got {unit!r}",
                                field="POINT:UNITS")
        rate = float(_scalar(path, points, "RATE"))
        if not np.isfinite(rate) or rate <= 0:
            raise PoseFileError(path, f"expected a positive frame rate, got {rate}",
                                field="POINT:RATE")
        labels = _labels(points)
        data = c3d["data"]["points"]  # (4, points, frames)
        residuals = c3d["data"]["meta_points"]["residuals"][0]  # (points, frames)
        if data.shape[1] != len(labels):
            raise PoseFileError(path, f"expected one label per point: {data.shape[1]} points, "
                                f"{len(labels)} labels", field="POINT:LABELS")
        skeleton = get_skeleton(self.markers)
        columns = self._columns(path, labels, skeleton.joint_names)
        individuals = list(columns)
        frames = data.shape[2]
        position = np.full((frames, 3, skeleton.n_joints, len(individuals)), np.nan)
        confidence = np.full((frames, skeleton.n_joints, len(individuals)), np.nan)
        imputed = np.zeros((frames, skeleton.n_joints, len(individuals)), dtype=bool)
        for person, (individual, found) in enumerate(columns.items()):
            absent = [m for m in skeleton.joint_names if m not in found]
            if absent:
                warnings.warn(f"{path}: {individual} has no marker {', '.join(absent)} "
                              f"(missing in every frame)", stacklevel=2)
            for marker, point in found.items():
                joint = skeleton.index(marker)
                xyz = data[:3, point, :].T * UNITS[unit]
                valid = (residuals[point] >= 0) & np.isfinite(xyz).all(axis=1)
                position[valid, :, joint, person] = xyz[valid]
                confidence[valid, joint, person] = 1.0
                if self.zero_residual == "imputed":
                    imputed[:, joint, person] = valid & (residuals[point] == 0)
        return PoseSequence.from_arrays(
            position,
            confidence,
            skeleton=skeleton,
            individuals=individuals,
            fps=rate,
            imputed=imputed,
            source_software="C3D",
            source_file=str(path),
        )

    @staticmethod
    def _columns(path: Path, labels: list[str],
                 markers: tuple[str, ...]) -> dict[str, dict[str, int]]:
        """``{individual: {marker: point index}}`` of the labels that are markers."""
        columns: dict[str, dict[str, int]] = {}
        for point, label in enumerate(labels):
            subject, _, marker = label.rpartition(":")
            if marker not in markers:
                continue
            found = columns.setdefault(subject or DEFAULT_SUBJECT, {})
            if marker in found:
                raise PoseFileError(path, f"marker {marker} is labelled twice (points "
                                    f"{found[marker] + 1} and {point + 1})", field="POINT:LABELS")
            found[marker] = point
        if not columns:
            raise PoseFileError(
                path, f"expected marker labels of the marker set ({', '.join(markers[:6])}, "
                f"...), found {', '.join(labels[:6]) or 'none'}", field="POINT:LABELS")
        return columns


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the C3D reader."""
    registry.add_reader("c3d", C3DReader)
