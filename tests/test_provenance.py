"""Provenance entries are written in one place: apply_stage (used by pipelines)."""

from __future__ import annotations

import attrs
import numpy as np

import posekit
from posekit.core.sequence import PoseSequence
from posekit.pipeline.run import Pipeline
from posekit.stages.provenance import apply_stage, note


def walk() -> PoseSequence:
    rng = np.random.default_rng(3)
    return PoseSequence.from_arrays(
        rng.normal(size=(6, 2, 17, 2)), rng.uniform(size=(6, 17, 2)), skeleton="coco_17", fps=25
    )


@attrs.frozen
class Counted:
    factor: float = 2.0

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        note(frames=sequence.n_frames)
        return sequence.replace(position=sequence.positions() * self.factor)


def test_one_entry_per_stage_with_parameters_notes_version_and_time():
    out = apply_stage(Counted(factor=3.0), walk())
    [entry] = out.log
    assert entry["stage"] == "Counted"  # not registered: its class name
    assert entry["parameters"] == {"factor": 3.0, "frames": 6}
    assert entry["version"] == posekit.__version__ and entry["time"]


def test_a_stage_called_directly_writes_nothing_and_notes_are_dropped():
    sequence = walk()
    assert Counted()(sequence).log == [] and posekit.Remap(to="mpi_inf_3dhp_28")(sequence).log == []


def test_pipeline_and_script_write_the_same_entries():
    sequence = walk()
    steps = [posekit.ConfidenceFilter(threshold=0.5), posekit.Select(start=1), Counted()]
    by_hand = sequence
    for step in steps:
        by_hand = apply_stage(step, by_hand)
    piped = Pipeline(steps=steps)(sequence)
    strip = [(e["stage"], e["parameters"]) for e in piped.log]
    assert strip == [(e["stage"], e["parameters"]) for e in by_hand.log]
    assert [stage for stage, _ in strip] == ["confidence_filter", "select", "Counted"]


def test_a_stage_that_still_logs_itself_is_not_logged_twice():
    @attrs.frozen
    class OldStyle:
        def __call__(self, sequence: PoseSequence) -> PoseSequence:
            return sequence.with_log("old_style", {"mine": True})

    out = apply_stage(OldStyle(), walk(), name="old_style")
    assert [(e["stage"], e["parameters"]) for e in out.log] == [("old_style", {"mine": True})]
