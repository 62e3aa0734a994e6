"""Built-in pipeline stages: callables from PoseSequence to PoseSequence."""
