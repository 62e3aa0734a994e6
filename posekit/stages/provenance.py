"""Applying a stage and writing its provenance entry: the one place entries are written.

Every stage applied by a pipeline, and every stage a script applies with
:func:`apply_stage`, gets one entry in the sequence's ``log``: the stage's registered
name, its parameters (the fields of its attrs class), posekit's version and the time
(:meth:`~posekit.core.sequence.PoseSequence.with_log`). A stage that learns something
while it runs (the file it wrote, the model's hash, the settings it resolved) adds it
to its entry with :func:`note`; stages never write entries themselves.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import attrs

from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_registry

#: Facts noted by the stage :func:`apply_stage` is running (None outside it).
_notes: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "posekit_stage_notes", default=None
)


def note(**facts: Any) -> None:
    """Add facts to the provenance entry of the stage being applied.

    Outside :func:`apply_stage` (a stage called directly) the facts are dropped.

    Examples
    --------
    >>> @attrs.frozen
    ... class Count:
    ...     def __call__(self, sequence):
    ...         note(frames=sequence.n_frames)
    ...         return sequence
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.zeros((4, 2, 17, 1)), skeleton="coco_17")
    >>> apply_stage(Count(), seq).log[-1]["parameters"]
    {'frames': 4}
    """
    notes = _notes.get()
    if notes is not None:
        notes.update(facts)


def stage_parameters(stage: Callable[[PoseSequence], PoseSequence]) -> dict[str, Any]:
    """A stage's parameters as logged: the fields of its attrs class that its
    constructor takes (not what it derives from them), else none.

    Examples
    --------
    >>> from posekit.stages.basic import ConfidenceFilter
    >>> stage_parameters(ConfidenceFilter(threshold=0.3))
    {'threshold': 0.3}
    """
    if not attrs.has(type(stage)):
        return {}
    return attrs.asdict(stage, filter=lambda field, _: field.init)  # type: ignore[arg-type]


def apply_stage(
    stage: Callable[[PoseSequence], PoseSequence],
    sequence: PoseSequence,
    *,
    name: str | None = None,
) -> PoseSequence:
    """Apply a stage and append its provenance entry to the result's ``log``.

    Parameters
    ----------
    stage
        A stage object (or any callable from PoseSequence to PoseSequence).
    sequence
        The input.
    name
        The entry's stage name; default the name the stage's class is registered
        under (else its class name).

    Returns
    -------
    PoseSequence
        The stage's result with one more log entry: ``stage``, ``parameters`` (the
        stage's fields and what it noted), ``version`` and ``time``.

    Examples
    --------
    >>> import numpy as np
    >>> from posekit.stages.basic import Remap
    >>> seq = PoseSequence.from_arrays(np.ones((2, 2, 17, 1)), skeleton="coco_17")
    >>> entry = apply_stage(Remap(to="mpi_inf_3dhp_28"), seq).log[-1]
    >>> entry["stage"], entry["parameters"]
    ('remap', {'to': 'mpi_inf_3dhp_28', 'from': 'coco_17'})
    """
    notes: dict[str, Any] = {}
    token = _notes.set(notes)
    try:
        result = stage(sequence)
    finally:
        _notes.reset(token)
    name = name if name is not None else get_registry().stage_name(stage)
    added = result.log[len(sequence.log) :]
    if added and added[-1].get("stage") == name:
        return result  # a stage that still writes its own entry (older plugins) is not logged twice
    return result.with_log(name, {**stage_parameters(stage), **notes})
