"""Marker-set skeleton files of the posekit-c3d plugin (data only)."""
