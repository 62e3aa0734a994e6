"""Figures of an evaluation: PCKh curves per joint group and scores per joint."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from posekit.evaluation.scoring import EvaluationResult
from posekit.ops.metrics import AUC_THRESHOLDS


def plot_result(result: EvaluationResult, folder: str | Path) -> list[Path]:
    """Write ``pckh_curves.png`` (PCKh versus threshold per group) and
    ``per_joint.png`` (AUC and PCKh@0.5 per joint) into ``folder``.

    matplotlib is imported here, not with the module.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from posekit.core.sequence import PoseSequence
    >>> from posekit.evaluation.scoring import Evaluation
    >>> ref = PoseSequence.from_arrays(np.ones((4, 2, 28, 1)), skeleton="mpi_inf_3dhp_28")
    >>> evaluation = Evaluation()
    >>> evaluation.add("clip", ref, ref)
    >>> [p.name for p in plot_result(evaluation.result(), tempfile.mkdtemp())]
    ['pckh_curves.png', 'per_joint.png']
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for group, curve in result.curves.items():
        if not all(math.isnan(v) for v in curve):
            auc = result.groups[group]["auc"]
            ax.plot(AUC_THRESHOLDS, curve, label=f"{group} (AUC {auc:.3f})")
    ax.set(xlabel="threshold (head units)", ylabel="PCKh", xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    paths.append(folder / "pckh_curves.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    names = list(result.joints)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(8, 0.4 * len(names)), 4.5))
    ax.bar(x - 0.2, [_nan(result.joints[n]["auc"]) for n in names], 0.4, label="AUC")
    ax.bar(x + 0.2, [_nan(result.joints[n].get("pckh@0.5")) for n in names], 0.4, label="PCKh@0.5")
    labels = [f"{n} (given)" if result.joints[n].get("given") else n for n in names]
    ax.set_xticks(x, labels, rotation=70, ha="right", fontsize=8)
    ax.set(ylabel="score", ylim=(0, 1.01))
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    paths.append(folder / "per_joint.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
