"""What a pipeline run did: one :class:`FileResult` per input file and the
:class:`RunReport` over all of them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs


@attrs.frozen
class FileResult:
    """What happened to one input file.

    Parameters
    ----------
    input
        The input file.
    outputs
        The files written.
    error
        Why it failed (where, then the error), or None if it succeeded.
    timings
        Seconds spent reading, in each step (by step label) and writing.
    frames, individuals, keypoints
        Shape of the written sequence (0 if it failed or was skipped).
    imputed
        Joint values (time × keypoint × individual) that stages generated.
    skipped
        True if the outputs were up to date and the file was not processed again.
    """

    input: Path
    outputs: tuple[Path, ...]
    error: str | None
    timings: Mapping[str, float]
    frames: int = 0
    individuals: int = 0
    keypoints: int = 0
    imputed: int = 0
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True if the file went through every step and was written, or was up to date."""
        return self.error is None

    def summary(self) -> str:
        """One line: where the result is, its size, what was filled, the time taken.

        Examples
        --------
        >>> FileResult(Path("a.json"), (Path("out/a.nc"),), None, {"read": 0.5},
        ...            frames=10, individuals=1, keypoints=28, imputed=160).summary()
        'out/a.nc: 10 frames, 1 individual, 28 joints, 160 of 280 joint values filled (57%) in 0.5 s'
        >>> FileResult(Path("a.json"), (Path("out/a.nc"),), None, {}, skipped=True).summary()
        'out/a.nc: up to date, skipped'
        """
        where = ", ".join(_shown(p) for p in self.outputs)
        if self.skipped:
            return f"{where}: up to date, skipped"
        values = self.frames * self.individuals * self.keypoints
        share = f" ({100 * self.imputed / values:.0f}%)" if values else ""
        people = f"{self.individuals} individual{'' if self.individuals == 1 else 's'}"
        return (
            f"{where}: {self.frames} frames, {people}, {self.keypoints} joints, "
            f"{self.imputed} of {values} joint values filled{share} in "
            f"{sum(self.timings.values()):.1f} s"
        )


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@attrs.frozen
class RunReport:
    """What a :meth:`Pipeline.run` did, file by file.

    Examples
    --------
    >>> RunReport(files=(), seconds=0.0).summary()
    '0 files: 0 done, 0 failed, 0 skipped in 0.0 s'
    """

    files: tuple[FileResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """True if every file succeeded."""
        return all(result.ok for result in self.files)

    @property
    def failed(self) -> list[FileResult]:
        """The files that failed."""
        return [result for result in self.files if not result.ok]

    @property
    def skipped(self) -> list[FileResult]:
        """The files whose outputs were up to date."""
        return [result for result in self.files if result.skipped]

    def summary(self) -> str:
        """One line: files done, failed and skipped, the time taken and the files done
        per minute."""
        count, failed, skipped = len(self.files), len(self.failed), len(self.skipped)
        done = count - failed - skipped
        rate = f" ({60 * done / self.seconds:.1f} files/min)" if done and self.seconds > 0 else ""
        return (
            f"{count} file{'' if count == 1 else 's'}: {done} done, "
            f"{failed} failed, {skipped} skipped in {self.seconds:.1f} s{rate}"
        )
