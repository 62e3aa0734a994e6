"""The data model: :class:`~posekit.core.sequence.PoseSequence`, skeletons, errors and
presence.

Nothing here imports the plugin registry, torch or an estimator; names of skeletons
registered by plugins are resolved at the edge (pipeline building, stage construction,
:func:`posekit.read`) and handed in as :class:`~posekit.core.skeleton.Skeleton` objects.
"""
