"""Property tests of what ``posekit run`` promises (docs/reliability.md), on mutated
files of every reader and mutated pipeline files:

- it ends with exit status 0, 1 (a file failed) or 2 (the pipeline is wrong), never a
  traceback;
- a file that fails is named by its error (a posekit error, not a library's), and the
  other file of the batch is still written;
- no output of a failed file, no temporary file, nothing outside the output folder;
- no input (data files, the pipeline file) is changed.

Each test has a bounded budget (``max_examples``), so it runs in CI in seconds.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pose_files import DLC_SINGLE, alphapose_records, coco_results, mmpose_video
from synthetic_mocap import amc_text, asf_text
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.sequence import PoseSequence
from posekit.pipeline.run import Pipeline

SETTINGS = settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
TINY_BVH = Path(__file__).parent / "fixtures" / "mocap" / "tiny.bvh"


def netcdf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.nc"
        PoseSequence.from_arrays(
            np.arange(4 * 2 * 17, dtype=float).reshape(4, 2, 17, 1), skeleton="coco_17", fps=30
        ).to_netcdf(path)
        return path.read_bytes()


#: A valid file of each reader: (suffix, its bytes, files it needs beside it by stem).
VALID: dict[str, tuple[str, Callable[[], bytes], Callable[[str], dict[str, bytes]]]] = {
    "alphapose": (".json", lambda: json.dumps(alphapose_records(17)).encode(), lambda s: {}),
    "coco": (".json", lambda: json.dumps(coco_results()).encode(), lambda s: {}),
    "mmpose": (".json", lambda: json.dumps(mmpose_video()).encode(), lambda s: {}),
    "dlc": (".csv", lambda: DLC_SINGLE.encode(), lambda s: {}),
    "netcdf": (".nc", netcdf_bytes, lambda s: {}),
    "bvh": (".bvh", TINY_BVH.read_bytes, lambda s: {}),
    "asf_amc": (".amc", lambda: amc_text(3, seed=0).encode(),
                lambda stem: {f"{stem.split('_')[0]}.asf": asf_text().encode()}),
}  # fmt: skip

TOKENS = [b"", b"\x00", b"\xff\xfe", b"NaN", b"-1", b"1e309", b"[", b"{", b"}", b'"', b",",
          b"\n", b"999999999999", b"\xe9", b"null"]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1 to 3 byte-level changes: a byte replaced, a span deleted, a token
    inserted, or the end cut off."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        operation = draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
        if operation == "replace" and data:
            data[where] = draw(st.integers(0, 255))
        elif operation == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        elif operation == "insert":
            data[where:where] = draw(st.sampled_from(TOKENS))
        else:
            del data[where:]
    return bytes(data)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("reader", sorted(VALID))
@SETTINGS
@given(data=st.data())
def test_a_mutated_file_fails_alone_naming_itself(reader: str, data: st.DataObject) -> None:
    suffix, valid, beside = VALID[reader]
    original = valid()
    bad = data.draw(mutated(original), label="file")
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "data").mkdir()
        for stem, content in (("good_01", original), ("bad_01", bad)):
            (root / "data" / f"{stem}{suffix}").write_bytes(content)
            for extra, extra_content in beside(stem).items():
                (root / "data" / extra).write_bytes(extra_content)
        pipeline = {"input": {"path": f"data/*{suffix}"}, "output": {"path": "out/{stem}.nc"}}
        (root / "p.yaml").write_text(yaml.safe_dump(pipeline))
        inputs = snapshot(root)
        report = Pipeline.from_yaml(root / "p.yaml").run(progress=False)
        results = {r.input.name: r for r in report.files}
        assert results[f"good_01{suffix}"].ok, results[f"good_01{suffix}"].error
        failed = results[f"bad_01{suffix}"]
        written = sorted(p.name for p in (root / "out").iterdir())
        if failed.ok:
            assert written == ["bad_01.nc", "good_01.nc"]
        else:
            assert str(root / "data" / f"bad_01{suffix}") in failed.error, failed.error
            assert written == ["good_01.nc"]  # no output of the failed file, no temporary
        data_before = {k[5:]: v for k, v in inputs.items() if k.startswith("data/")}
        assert snapshot(root / "data") == data_before
        assert (root / "p.yaml").read_bytes() == inputs["p.yaml"]


GOOD_PIPELINE = """\
input: {path: 'data/*.nc', fps: 30}
steps:
  - confidence_filter: {threshold: 0.3}
  - remap: {to: mpi_inf_3dhp_28}
  - select: {individuals: [id_0], start: 0}
output: {path: 'out/{stem}.nc'}
"""

YAML_TOKENS = ["[", "]", "{", "}", ":", "- ", "&a ", "*a", "!!python/object:os.system ", "{stem",
               "{stem:>99999}", "'", '"', "\t", "\xe9", "~nobody_x", "---\n", "? ", "<<: *a",
               "1e999", "-1", "null", "jumps", "steps", "[" * 100]  # fmt: skip


@st.composite
def mutated_pipeline(draw: st.DrawFn) -> bytes:
    """The good pipeline with 1 to 3 text changes; never an absolute path or ``..`` (so
    no output can leave the temporary folder, whatever the mutation)."""
    text = GOOD_PIPELINE
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "delete", "replace"]))
        if operation == "insert":
            text = text[:where] + draw(st.sampled_from(YAML_TOKENS)) + text[where:]
        elif operation == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 12)) :]
        else:
            text = text[:where] + draw(st.sampled_from(YAML_TOKENS)) + text[where + 1 :]
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw = raw.replace(b"\xc3\xa9", b"\xe9")  # Latin-1, not UTF-8
    return raw


def _stays_inside(raw: bytes) -> bool:
    text = raw.decode("latin-1")
    return ".." not in text and not re.search(r"(^|[\s:{\[,'\"?-])/", text)


@SETTINGS
@given(raw=mutated_pipeline())
def test_a_mutated_pipeline_file_is_exit_0_1_or_2_without_a_traceback(raw: bytes) -> None:
    if not _stays_inside(raw):
        return
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "data").mkdir()
        PoseSequence.from_arrays(
            np.ones((3, 2, 17, 1)), skeleton="coco_17"
        ).to_netcdf(root / "data" / "clip.nc")
        (root / "p.yaml").write_bytes(raw)
        before = snapshot(root)
        result = CliRunner().invoke(app, ["run", "-q", str(root / "p.yaml")])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"traceback: {result.exception!r}"
        )
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:
            assert str(root / "p.yaml") in result.stderr
            assert not (root / "out").exists()
        after = snapshot(root)
        assert {k: v for k, v in after.items() if k in before} == before  # inputs unchanged
        new = sorted(set(after) - set(before))
        assert all(re.fullmatch(r"[^/]+(/[^/.][^/]*)*", k) for k in new), new
        assert not [k for k in new if k.endswith((".tmp", ".old"))], new
