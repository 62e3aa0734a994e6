"""posekit's built-in skeleton files (data only; nothing here is executed)."""
