"""Stages that reshape a sequence: ``remap``, ``select`` and ``confidence_filter``."""

from __future__ import annotations

import attrs

from posekit.core.sequence import PoseSequence
from posekit.core.skeleton import Skeleton
from posekit.ops.confidence import drop_low_confidence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_registry
from posekit.stages.provenance import note


@attrs.frozen
class Remap:
    """Express the sequence in another skeleton's layout (``remap: {to: mpi_inf_3dhp_28}``).

    Joints the source cannot give become missing (NaN); combined joints (midpoints)
    take the minimum confidence of their sources.

    Parameters
    ----------
    to
        Target skeleton name.

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.ones((2, 2, 17, 1)), skeleton="coco_17")
    >>> Remap(to="mpi_inf_3dhp_28")(seq).n_keypoints
    28
    """

    to: str = attrs.field()
    #: The target skeleton, resolved when the stage is built (against the registry of
    #: the pipeline being built); an UnknownNameError lists the known skeletons.
    _target: Skeleton = attrs.field(init=False, eq=False, repr=False)

    @_target.default
    def _resolve(self) -> Skeleton:
        return get_registry().skeleton(self.to)

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        source = None if sequence.skeleton is None else get_registry().skeleton(sequence.skeleton)
        note(**{"from": sequence.skeleton})
        return sequence.remap(self._target, source=source)


@attrs.frozen
class Select:
    """Keep some individuals and a range of frames (``select: {individuals: [id_0]}``).

    Parameters
    ----------
    individuals
        Individual ids to keep; default all.
    start, stop
        Frame range ``[start, stop)``; default the whole sequence.

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.ones((9, 2, 17, 2)), skeleton="coco_17")
    >>> out = Select(individuals=["id_1"], start=3)(seq)
    >>> out.individuals, out.n_frames
    (['id_1'], 6)
    """

    individuals: list[str] | None = None
    start: int | None = None
    stop: int | None = None

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        selected = sequence.select(
            individuals=self.individuals, frames=slice(self.start, self.stop)
        )
        return selected


@attrs.frozen
class ConfidenceFilter:
    """Mark joints whose confidence is below a threshold as missing.

    Their position becomes NaN; the confidence is kept so the reason stays visible.

    Parameters
    ----------
    threshold
        Joints with confidence strictly below it become missing.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.array([0.9, 0.1]).reshape(1, 2, 1)
    >>> seq = PoseSequence.from_arrays(np.ones((1, 2, 2, 1)), conf, keypoints=["a", "b"])
    >>> ConfidenceFilter(threshold=0.3)(seq).observed()[0, 0].tolist()
    [True, False]
    """

    threshold: float = attrs.field(default=0.3)

    @threshold.validator
    def _check(self, attribute: attrs.Attribute, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {value}")

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        return drop_low_confidence(sequence, self.threshold)


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the reshaping stages."""
    registry.add_stage("remap", Remap)
    registry.add_stage("select", Select)
    registry.add_stage("confidence_filter", ConfidenceFilter)
