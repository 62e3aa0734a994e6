"""Example posekit plugin: the MediaPipe Pose skeleton and a CSV reader for it."""
