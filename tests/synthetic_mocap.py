"""A tiny synthetic CMU-like motion-capture folder for the data-builder tests.

Made-up numbers, not captured data: an ASF with CMU's 31-joint hierarchy (bone names,
order and parents of ``skeletons/cmu_31.toml``, lengths in CMU's unit) and AMC clips of
smooth random motion, laid out as the shared mocap folder is
(``cmu/subjects/<SS>/<SS>.asf``, ``<SS>_<TT>.amc[.gz]``, ``splits.json``).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the `training` package lives at the repository root
    sys.path.insert(0, str(ROOT))

# name: (parent, direction, length in CMU units, dofs)
_LEFT = {
    "lhipjoint": ("root", (1.0, -1.0, 0.3), 2.5, ""),
    "lfemur": ("lhipjoint", (0.0, -1.0, 0.0), 7.5, "rx ry rz"),
    "ltibia": ("lfemur", (0.0, -1.0, 0.0), 7.5, "rx"),
    "lfoot": ("ltibia", (0.0, -0.3, 1.0), 2.5, "rx rz"),
    "ltoes": ("lfoot", (0.0, 0.0, 1.0), 1.2, "rx"),
    "lclavicle": ("thorax", (1.0, 0.2, 0.0), 3.5, "ry rz"),
    "lhumerus": ("lclavicle", (1.0, 0.0, 0.0), 5.4, "rx ry rz"),
    "lradius": ("lhumerus", (1.0, 0.0, 0.0), 3.7, "rx"),
    "lwrist": ("lradius", (1.0, 0.0, 0.0), 1.8, "ry"),
    "lhand": ("lwrist", (1.0, 0.0, 0.0), 0.7, "rx rz"),
    "lfingers": ("lhand", (1.0, 0.0, 0.0), 0.6, "rx"),
    "lthumb": ("lwrist", (1.0, 0.0, 1.0), 0.7, "rx rz"),
}
_AXIAL = {
    "lowerback": ("root", (0.0, 1.0, 0.0), 2.0, "rx ry rz"),
    "upperback": ("lowerback", (0.0, 1.0, 0.0), 2.0, "rx ry rz"),
    "thorax": ("upperback", (0.0, 1.0, 0.0), 2.0, "rx ry rz"),
    "lowerneck": ("thorax", (0.0, 1.0, 0.0), 1.7, "rx ry rz"),
    "upperneck": ("lowerneck", (0.0, 1.0, 0.0), 1.7, "rx ry rz"),
    "head": ("upperneck", (0.0, 1.0, 0.0), 1.8, "rx ry rz"),
}


def _bones() -> dict[str, tuple[str, tuple[float, float, float], float, str]]:
    bones = dict(_AXIAL)
    for name, (parent, (x, y, z), length, dof) in _LEFT.items():
        bones[name] = (parent, (x, y, z), length, dof)
        right_parent = parent if parent in ("root", "thorax") else "r" + parent[1:]
        bones["r" + name[1:]] = (right_parent, (-x, y, z), length, dof)
    return bones


BONES = _bones()


def asf_text() -> str:
    """The ASF file of the synthetic subject."""
    lines = [
        "# synthetic CMU-like skeleton for tests", ":version 1.10", ":name synthetic",
        ":units", "  mass 1.0", "  length 0.45", "  angle deg", ":root",
        "   order TX TY TZ RX RY RZ", "   axis XYZ", "   position 0 0 0",
        "   orientation 0 0 0", ":bonedata",
    ]
    for index, (name, (_, direction, length, dof)) in enumerate(BONES.items(), start=1):
        lines += ["  begin", f"     id {index}", f"     name {name}",
                  "     direction " + " ".join(f"{v:g}" for v in direction),
                  f"     length {length:g}", "     axis 0 0 0  XYZ"]
        if dof:
            lines.append(f"    dof {dof}")
        lines.append("  end")
    children: dict[str, list[str]] = {}
    for name, (parent, *_rest) in BONES.items():
        children.setdefault(parent, []).append(name)
    order = ["root", "lhipjoint", "lfemur", "ltibia", "lfoot", "rhipjoint", "rfemur",
             "rtibia", "rfoot", "lowerback", "upperback", "thorax", "lowerneck",
             "upperneck", "lclavicle", "lhumerus", "lradius", "lwrist", "lhand",
             "rclavicle", "rhumerus", "rradius", "rwrist", "rhand"]
    lines += [":hierarchy", "  begin"]
    for parent in order:
        kids = sorted(children.get(parent, []), key=list(BONES).index)
        if parent == "root":
            kids = ["lhipjoint", "rhipjoint", "lowerback"]
        if parent == "thorax":
            kids = ["lowerneck", "lclavicle", "rclavicle"]
        lines.append(f"    {parent} {' '.join(kids)}")
    lines += ["  end", ""]
    return "\n".join(lines)


def amc_text(n_frames: int, seed: int) -> str:
    """A smooth random motion of the synthetic skeleton: walking forward while waving."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / 120.0
    lines = ["#!OML:ASF synthetic.asf", ":FULLY-SPECIFIED", ":DEGREES"]
    amplitude = {name: rng.uniform(5, 30, size=3) for name in BONES}
    phase = {name: rng.uniform(0, 2 * np.pi, size=3) for name in BONES}
    heading = rng.uniform(0, 360)
    for frame in range(n_frames):
        x, z = 0.5 * t[frame] * 40, 0.3 * t[frame] * 40
        root = [x, 17.0 + np.sin(6 * t[frame]), z, 3 * np.sin(2 * t[frame]),
                heading + 10 * t[frame], 2 * np.cos(3 * t[frame])]
        lines.append(str(frame + 1))
        lines.append("root " + " ".join(f"{v:.5f}" for v in root))
        for name, (_, _, _, dof) in BONES.items():
            if not dof:
                continue
            count = len(dof.split())
            values = amplitude[name][:count] * np.sin(4 * t[frame] + phase[name][:count])
            lines.append(f"{name} " + " ".join(f"{v:.5f}" for v in values))
    lines.append("")
    return "\n".join(lines)


def write_mocap_folder(root: Path, frames: dict[str, int] | None = None) -> Path:
    """A mocap folder with subject ``01`` (train, and test) and ``02`` (val).

    ``frames`` gives each clip's length at 120 fps; ``.gz`` is used for ``01_02``.
    Returns ``root``.
    """
    frames = frames or {"01_01": 400, "01_02": 241, "02_01": 80}
    for index, (clip, n_frames) in enumerate(sorted(frames.items())):
        subject = clip.split("_")[0]
        folder = root / "cmu" / "subjects" / subject
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{subject}.asf").write_text(asf_text())
        text = amc_text(n_frames, seed=index)
        if clip == "01_02":
            (folder / f"{clip}.amc.gz").write_bytes(gzip.compress(text.encode()))
        else:
            (folder / f"{clip}.amc").write_text(text)
    clips: dict[str, list[str]] = {}
    for clip in sorted(frames):
        clips.setdefault(clip.split("_")[0], []).append(clip)
    splits = {"unit": "subject",
              "splits": {"train": ["01"], "val": ["02"], "test": ["01"]},
              "clips": clips}
    (root / "splits.json").write_text(json.dumps(splits))
    return root
