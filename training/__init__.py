"""Turning motion capture into training and evaluation data, and training the JUMPS
networks. Not imported by :mod:`posekit` at run time.

Data builders (run from the repository root):

- ``python -m training.mocap``: read the clips of a split as 3D, 28 joints, 30 fps
  (cached), with a timing of the parsing;
- ``python -m training.build_windows``: 24-frame normalized 2D training windows;
- ``python -m training.build_eval``: whole projected clips in the three input
  conditions of ``EVALUATION.md``.

Only these builders use :mod:`training.camera` (pinhole cameras, the evaluation's
random cameras) and :mod:`training.resample` (120 fps clips to 30 fps), so they live
here rather than in the package.

The motion capture is the CMU Graphics Lab Motion Capture Database. The data used in
this project was obtained from mocap.cs.cmu.edu. The database was created with
funding from NSF EIA-0196217.
"""
