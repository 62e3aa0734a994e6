"""Baselines for joint upsampling and inpainting, as pipeline stages.

Each is a stage of its own module, registered under its name:

- ``mean_pose`` (:mod:`~posekit.baselines.mean_pose`): the mean training pose fitted
  to the observed joints of each frame by Procrustes;
- ``ridge`` (:mod:`~posekit.baselines.ridge`): per-frame ridge regression from the
  observed joints to all joints, for any set of observed joints;
- ``ridge_window`` (:mod:`~posekit.baselines.ridge_window`): the same over
  half-overlapping 24-frame windows;
- ``knn`` (:mod:`~posekit.baselines.knn`): the average of the k nearest training
  frames on the observed joints;
- ``interpolate`` (:mod:`~posekit.baselines.interpolate`): a temporal cubic spline
  across the gaps of joints that are sometimes observed.

The fitted models (``posekit/models/baselines/*.npz``, each with a JSON sidecar
holding its SHA-256) ship with posekit; they were fitted on the CMU train split (16
cameras a clip, every clip and its mirror image; both ridge models left/right
symmetric), hyper-parameters chosen on val, by ``python -m training.fit_baselines`` in posekit's
source repository (the training scripts are not installed with the package). Every baseline passes the measured joints
through unchanged and marks what it creates as imputed.
"""

from __future__ import annotations

from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

#: Stage name -> "module:class".
STAGES: dict[str, str] = {
    "mean_pose": "posekit.baselines.mean_pose:MeanPose",
    "ridge": "posekit.baselines.ridge:Ridge",
    "ridge_window": "posekit.baselines.ridge_window:RidgeWindow",
    "knn": "posekit.baselines.knn:Knn",
    "interpolate": "posekit.baselines.interpolate:Interpolate",
}


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the baseline stages."""
    import importlib

    for name, target in STAGES.items():
        module, cls = target.split(":")
        registry.add_stage(name, getattr(importlib.import_module(module), cls))
