"""posekit plugin: C3D motion-capture marker trajectories as pose sequences."""
