"""posekit-mediapipe: pose estimation from videos with MediaPipe Pose (BlazePose).

- :mod:`posekit_mediapipe.estimator`: the ``mediapipe`` estimator (one person per
  frame, 33 landmarks, linked into tracks);
- :mod:`posekit_mediapipe.csv_reader`: the ``mediapipe_csv`` reader, for landmarks
  saved as CSV by one's own MediaPipe scripts;
- ``skeletons/blazepose_33.toml``: the 33 landmarks and their mapping to posekit's
  28-joint layout (heels and foot tips give measured feet and toes).
"""
