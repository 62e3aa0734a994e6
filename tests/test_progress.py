"""Stages' progress bars: only under ``posekit run`` (not ``-q``) and on a terminal."""

import io
import sys

from posekit.core.progress import progress_bar, showing_progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_silent_unless_asked(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress_bar(10, "jumps").disable
    with showing_progress(False):
        assert progress_bar(10, "jumps").disable


def test_shown_when_asked_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    with showing_progress(True):
        assert not progress_bar(10, "jumps").disable
    assert progress_bar(10, "jumps").disable  # the context is left as it was


def test_silent_when_stderr_is_no_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with showing_progress(True):
        assert progress_bar(10, "jumps").disable


def test_pipeline_run_asks_stages_for_bars_unless_quiet(tmp_path):
    import numpy as np

    from posekit.core.progress import _SHOW
    from posekit.core.sequence import PoseSequence
    from posekit.pipeline.config import Input, Output
    from posekit.pipeline.run import Pipeline

    PoseSequence.from_arrays(np.ones((3, 2, 17, 1)), skeleton="coco_17").to_netcdf(
        tmp_path / "a.nc"
    )
    seen = []

    def recording_stage(sequence):
        seen.append(_SHOW.get())
        return sequence

    for progress in (True, False):
        Pipeline(
            steps=[recording_stage],
            input=Input(str(tmp_path / "a.nc")),
            output=Output(str(tmp_path / "out" / "{stem}.nc")),
        ).run(progress=progress, force=True)
    assert seen == [True, False]
