"""The plugin machinery: the registry, the pluggy hook specifications, the contracts a
registered class must meet, and the registration of posekit's own skeleton files."""
