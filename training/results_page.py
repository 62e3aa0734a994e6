"""The results page (``docs/results.md``): the paper's Tables I and II on CMU, and plots.

Written by ``python -m training.reproduce_tables --results-md docs/results.md`` from
its rows; nothing on the page is typed by hand, so it never drifts from the figures.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The JUMPS paper's own figures (MPI-INF-3DHP, all 28 joints): method -> condition ->
#: (PCKh@0.1, PCKh@0.5, PCKh@1.0, AUC). Table I is ``upsample``; Table II is AlphaPose
#: input, which our ``hpe`` condition imitates. A reference point, not a like-for-like
#: comparison: other data, other cameras.
PAPER: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "AlphaPose input": {"hpe": (0.0941, 0.7659, 0.9157, 0.6310)},
    "JUMPS w/o P.A.": {"upsample": (0.0368, 0.4384, 0.6814, 0.3912),
                       "hpe": (0.0207, 0.3423, 0.6304, 0.3249)},
    "JUMPS w/o ENC.": {"upsample": (0.1701, 0.8259, 0.9678, 0.7005),
                       "hpe": (0.0537, 0.6801, 0.9059, 0.5692)},
    "JUMPS w/o overlap": {"upsample": (0.5821, 0.9648, 0.9962, 0.8727),
                          "hpe": (0.0831, 0.7701, 0.9277, 0.6326)},
    "JUMPS": {"upsample": (0.6096, 0.9674, 0.9965, 0.8803),
              "hpe": (0.0842, 0.7723, 0.9276, 0.6341)},
}

#: Condition -> (title, what it is).
CONDITION_TITLES: dict[str, tuple[str, str]] = {
    "upsample": ("Table I: upsampling 12 → 28 joints (`upsample`)",
                 "The 12 joints exactly as projected; the other 16 are missing."),
    "hpe": ("Table II: noisy, occluded estimator-like input (`hpe`)",
            ("The 12 joints with Gaussian noise (0.05 head sizes) and occlusion bursts; "
             "the paper's Table II ran AlphaPose on video instead.")),
    "dropout": ("Inpainting (`dropout`)",
                "All 28 joints with occlusion bursts: pure gap filling, nothing is added."),
}

#: Short description of each method of ``training.reproduce_tables.METHODS``.
DESCRIPTIONS: dict[str, str] = {
    "jumps": "JUMPS, the paper's settings (200 iterations, 4 starts, overlap 0.5)",
    "jumps_fast": "JUMPS, fast preset (posekit's defaults: encoder started from the window ridge completion)",
    "jumps_fast_encoder_start": "JUMPS, fast preset, the paper's encoder start",
    "jumps_no_procrustes": "JUMPS w/o P.A. (paper settings)",
    "jumps_no_overlap": "JUMPS w/o overlap (paper settings)",
    "jumps_no_encoder": "JUMPS w/o ENC. init (paper settings, prior starts only)",
    "mean_pose": "mean pose + Procrustes",
    "ridge": "per-frame ridge regression",
    "ridge_window": "24-frame window ridge regression (gaps filled by the window model)",
    "ridge_window_linear_gaps": "24-frame window ridge regression, gaps filled linearly first (EVALUATION.md)",
    "knn": "k nearest training windows",
    "interpolate": "temporal spline across gaps",
}


def format_score(value: float | None) -> str:
    """A score with three decimals; a dash when there is none (None or NaN).

    Examples
    --------
    >>> format_score(0.51234), format_score(float("nan")), format_score(None)
    ('0.512', '–', '–')
    """
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _label(row: dict[str, Any]) -> str:
    label = DESCRIPTIONS.get(row["method"], row["method"])
    return f"{label}, subset" if row.get("subset") else label


def condition_table(rows: Sequence[dict[str, Any]], condition: str) -> str:
    """Markdown table of one condition: all-joint PCKh/AUC as the paper reports them,
    then the added/given/filled AUC and the speed; the paper's lines first.

    Examples
    --------
    >>> groups = {g: {"pckh@0.1": 0.1, "pckh@0.5": 0.5, "pckh@1": 0.9, "auc": 0.6,
    ...               "jitter": 0.0} for g in ("all", "added", "given", "filled")}
    >>> row = {"method": "ridge", "condition": "upsample", "groups": groups, "clips": 3,
    ...        "frames": 90, "fps": 1000.0}
    >>> print(condition_table([row], "upsample").splitlines()[-1])
    | per-frame ridge regression | 3 | 0.100 | 0.500 | 0.900 | 0.600 | 0.600 | 0.600 | 0.600 | 0.000 | 1000 |
    """
    lines = [("| method | clips | PCKh@0.1 | PCKh@0.5 | PCKh@1.0 | AUC | added AUC | given AUC "
              "| filled AUC | jitter | frames/s |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, figures in PAPER.items():
        if condition in figures:
            p01, p05, p10, auc = figures[condition]
            lines.append(f"| *paper: {name}* | *MPI-INF-3DHP* | *{p01:.3f}* | *{p05:.3f}* | "
                         f"*{p10:.3f}* | *{auc:.3f}* | | | | | |")
    for row in rows:
        if row["condition"] != condition:
            continue
        g = row["groups"]
        lines.append(
            f"| {_label(row)} | {row['clips']} | {format_score(g['all']['pckh@0.1'])} | "
            f"{format_score(g['all']['pckh@0.5'])} | {format_score(g['all']['pckh@1'])} | {format_score(g['all']['auc'])} | "
            f"{format_score(g['added']['auc'])} | {format_score(g['given']['auc'])} | {format_score(g['filled']['auc'])} | "
            f"{format_score(g['all'].get('jitter'))} | {row['fps']:.0f} |"
        )
    return "\n".join(lines)


def verdict(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One sentence per full-split JUMPS line and condition: against the best baseline
    on the added joints."""
    sentences = []
    for condition in ("upsample", "hpe"):
        full = [r for r in rows if r["condition"] == condition and not r.get("subset")
                and r["groups"]["added"]["auc"] is not None]
        baselines = [r for r in full if not r["method"].startswith("jumps")]
        if not baselines:
            continue
        best = max(baselines, key=lambda r: r["groups"]["added"]["auc"])
        b = best["groups"]["added"]["auc"]
        for row in (r for r in full if r["method"].startswith("jumps")):
            a = row["groups"]["added"]["auc"]
            word = "beats" if a > b else "does not beat"
            sentences.append(
                f"- `{condition}`: {_label(row)} {word} the best baseline, {_label(best)}, on "
                f"the 16 added joints (AUC {a:.3f} vs {b:.3f})."
            )
    return sentences


def plot_added_auc(rows: Sequence[dict[str, Any]], out: Path) -> Path:
    """Bar chart: added-joint AUC per method (``filled`` for ``dropout``), per condition."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    full = [r for r in rows if not r.get("subset")]
    methods = list(dict.fromkeys(r["method"] for r in full))
    conditions = list(dict.fromkeys(r["condition"] for r in full))
    width = 0.8 / max(1, len(conditions))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(methods)), 4.0))
    for k, condition in enumerate(conditions):
        group = "filled" if condition == "dropout" else "added"
        values = []
        for method in methods:
            match = [r for r in full if r["method"] == method and r["condition"] == condition]
            value = match[0]["groups"][group]["auc"] if match else None
            values.append(np.nan if value is None else value)
        ax.bar(np.arange(len(methods)) + (k - (len(conditions) - 1) / 2) * width, values, width,
               label=f"{condition} ({group} joints)")
    ax.set_xticks(np.arange(len(methods)), methods, rotation=25, ha="right")
    ax.set(ylabel="AUC", ylim=(0, 1))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_curves(rows: Sequence[dict[str, Any]], condition: str, out: Path) -> Path:
    """PCKh of the added joints against the threshold, one line per method."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for row in rows:
        if row["condition"] == condition and not row.get("subset") and "curves" in row:
            curve = row["curves"].get("added")
            if curve and any(v is not None for v in curve):
                ax.plot(row["curves"]["thresholds"], [float("nan") if v is None else v
                                                      for v in curve],
                        label=f"{row['method']} (AUC {row['groups']['added']['auc']:.3f})")
    ax.set(xlabel="threshold (head sizes)", ylabel="PCKh, 16 added joints", xlim=(0, 1),
           ylim=(0, 1.01), title=condition)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_per_joint(rows: Sequence[dict[str, Any]], condition: str, out: Path) -> Path:
    """PCKh@0.5 per added joint for every full-split method of a condition."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    chosen = [r for r in rows if r["condition"] == condition and not r.get("subset")]
    joints = [j for j, m in chosen[0]["joints"].items() if not m.get("given")]
    width = 0.8 / len(chosen)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * len(joints)), 4.2))
    for k, row in enumerate(chosen):
        values = [row["joints"][j].get("pckh@0.5") for j in joints]
        ax.bar(np.arange(len(joints)) + (k - (len(chosen) - 1) / 2) * width,
               [np.nan if v is None else v for v in values], width, label=row["method"])
    ax.set_xticks(np.arange(len(joints)), joints, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="PCKh@0.5", ylim=(0, 1.01), title=f"{condition}: added joints")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_results_page(rows: Sequence[dict[str, Any]], path: Path, *, machine: str,
                       command: str) -> Path:
    """Write the results page and its plots (``images/results-*.png`` beside it).

    Parameters
    ----------
    rows
        The rows of ``training.reproduce_tables.main``.
    path
        The Markdown file to write (e.g. ``docs/results.md``).
    machine
        Where the speed was measured.
    command
        The command that made the figures, quoted on the page.
    """
    from posekit.core.atomic import atomic_path

    path = Path(path)
    images = path.parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    conditions = list(dict.fromkeys(r["condition"] for r in rows))
    split = rows[0]["split"] if rows else "test"
    parts = [
        "# Results on CMU motion capture",
        "",
        (
            f"Made by `{command}` on {datetime.date.today().isoformat()}; speed measured on "
            f"{machine}, one process. Protocol: the project's EVALUATION.md (CMU {split} "
            "subjects projected by random cameras; PCKh with the per-frame head size; AUC "
            "over thresholds 0 to 1). The paper's lines (in italics) are on MPI-INF-3DHP, "
            "other data and cameras: a reference point, not a like-for-like comparison. "
            "Lines marked *subset* ran on clips spread over the split (the paper's settings "
            "are slow on a CPU); the fast preset is scored on the same clips for comparison. "
            "PCKh and AUC columns are over all 28 joints, as in the paper; *added* = the 16 "
            "joints the input lacks, *given* = the input's joints, *filled* = every entry "
            "the input lacked."
        ),
        "",
        "## Does JUMPS beat the baselines?",
        "",
        *(verdict(rows) or ["- (no full-split JUMPS and baseline lines in this run)"]),
        "",
        (
            "Margins under 0.01 are smaller than the spread between subject groups: read "
            "them as a tie. The val figures (where the defaults were chosen), why, and what "
            "was tried: see the [model card](model-card.md)."
        ),
        "",
    ]
    if any(not r.get("subset") for r in rows):
        plot_added_auc(rows, images / "results-added-auc.png")
        parts += ["![Added-joint AUC per method](images/results-added-auc.png)", ""]
    for condition in conditions:
        title, what = CONDITION_TITLES.get(condition, (condition, ""))
        parts += [f"## {title}", "", what, "", condition_table(rows, condition), ""]
        if condition != "dropout" and any(
                r["condition"] == condition and not r.get("subset") for r in rows):
            curves = plot_curves(rows, condition, images / f"results-{condition}-curves.png")
            joints = plot_per_joint(rows, condition, images / f"results-{condition}-joints.png")
            parts += [f"![PCKh curves, {condition}](images/{curves.name})", "",
                      f"![Per-joint PCKh@0.5, {condition}](images/{joints.name})", ""]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts))
    return path
