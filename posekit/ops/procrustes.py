"""Similarity (Procrustes / Umeyama) alignment of point sets, for numpy and torch.

One implementation serves numpy arrays and torch tensors: the code only uses the
names the two libraries share (``sum(axis=...)``, ``where``, ``atan2``,
``linalg.svd``, ...), looked up on the input's own namespace. torch is imported
only when a tensor is passed, so importing this module stays cheap.

The fit is closed form and batched over any leading dimensions. In torch it is
differentiable: gradients flow to the source (and target). 2D uses the rotation
angle ``atan2(b, a)`` (no SVD, so its gradients are stable); 3D (and higher) uses
the SVD with the determinant correction, so reflections are never returned.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import attrs
import numpy as np

Array = Any
"""A numpy array or a torch tensor."""

_TOLERANCE_FACTOR = 16.0
"""Spreads below this many machine epsilons of the coordinates' magnitude count as zero."""


def _is_torch(x: object) -> bool:
    return type(x).__module__.startswith("torch")


def _namespace(*arrays: object) -> ModuleType:
    """Return ``torch`` if any argument is a tensor, else ``numpy``."""
    if any(_is_torch(a) for a in arrays):
        import torch

        return torch
    return np


def _as_float(xp: ModuleType, x: object, like: Array | None = None) -> Array:
    """Convert ``x`` to a floating array of namespace ``xp`` (dtype and device of ``like``)."""
    if xp is np:
        x = np.asarray(x)
        return x.astype(np.result_type(x, 0.0) if like is None else like.dtype, copy=False)
    if like is not None:
        return xp.as_tensor(x, dtype=like.dtype, device=like.device)
    tensor = xp.as_tensor(x)
    return tensor if tensor.is_floating_point() else tensor.to(xp.get_default_dtype())


def _eye(xp: ModuleType, d: int, like: Array) -> Array:
    """The ``d`` x ``d`` identity with the dtype (and device) of ``like``."""
    if xp is np:
        return np.eye(d, dtype=like.dtype)
    return xp.eye(d, dtype=like.dtype, device=like.device)


@attrs.frozen(eq=False)
class SimilarityTransform:
    """A batch of similarity transforms ``p -> scale * R p + translation``.

    Equality is identity (the fields are arrays, which do not compare to a bool).

    Parameters
    ----------
    rotation
        Rotations, shape ``(..., D, D)``, determinant +1.
    scale
        Uniform scales, shape ``(...)``.
    translation
        Translations, shape ``(..., D)``.

    Examples
    --------
    >>> import numpy as np
    >>> t = SimilarityTransform(np.array([[0.0, -1.0], [1.0, 0.0]]), np.array(2.0),
    ...                         np.array([1.0, 0.0]))
    >>> t.apply(np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[ 1.,  2.],
           [-1.,  0.]])
    >>> t.inverse().apply(t.apply(np.array([[3.0, 4.0]])))
    array([[3., 4.]])
    """

    rotation: Array
    scale: Array
    translation: Array

    def apply(self, points: Array) -> Array:
        """Transform points.

        Parameters
        ----------
        points
            Points, shape ``(..., N, D)``; leading dimensions broadcast with the
            transform's.

        Returns
        -------
        Array
            ``scale * points @ rotation^T + translation``, shape ``(..., N, D)``.

        Examples
        --------
        >>> import numpy as np
        >>> t = SimilarityTransform(np.eye(3), np.array(3.0), np.zeros(3))
        >>> t.apply(np.ones((2, 3)))
        array([[3., 3., 3.],
               [3., 3., 3.]])
        """
        xp = _namespace(self.rotation)
        rotated = xp.matmul(points, xp.swapaxes(self.rotation, -1, -2))
        return self.scale[..., None, None] * rotated + self.translation[..., None, :]

    def inverse(self) -> SimilarityTransform:
        """Return the inverse transform (the scale must be nonzero).

        Returns
        -------
        SimilarityTransform
            Rotation ``R^T``, scale ``1 / s`` and translation ``-R^T t / s``.

        Examples
        --------
        >>> import numpy as np
        >>> t = SimilarityTransform(np.eye(2), np.array(2.0), np.array([2.0, 4.0]))
        >>> inv = t.inverse()
        >>> float(inv.scale), inv.translation
        (0.5, array([-1., -2.]))
        """
        xp = _namespace(self.rotation)
        rotation = xp.swapaxes(self.rotation, -1, -2)
        scale = 1.0 / self.scale
        translation = -scale[..., None] * xp.matmul(rotation, self.translation[..., None])[..., 0]
        return SimilarityTransform(rotation, scale, translation)


def _rotation_2d(xp: ModuleType, h: Array, skip: Array, tol: Array) -> tuple[Array, Array]:
    """Best rotation for the 2 x 2 cross-covariance ``h``, and its trace term.

    With ``a = h00 + h11`` (sum of dot products) and ``b = h01 - h10`` (sum of
    cross products), the angle is ``atan2(b, a)`` and ``tr(R h) = hypot(a, b)``.
    Where ``skip`` or ``a`` and ``b`` vanish, the rotation is the identity and the
    trace term zero, computed on safe values so that gradients stay finite.
    """
    a = h[..., 0, 0] + h[..., 1, 1]
    b = h[..., 0, 1] - h[..., 1, 0]
    r2 = a * a + b * b
    flat = skip | (r2 <= tol)
    angle = xp.arctan2(xp.where(flat, 0.0, b), xp.where(flat, 1.0, a))
    cos, sin = xp.cos(angle), xp.sin(angle)
    rotation = xp.stack([xp.stack([cos, -sin], axis=-1), xp.stack([sin, cos], axis=-1)], axis=-2)
    trace = xp.where(flat, 0.0, xp.sqrt(xp.where(flat, 1.0, r2)))
    return rotation, trace


def _rotation_svd(xp: ModuleType, h: Array, skip: Array, tol: Array) -> tuple[Array, Array]:
    """Best proper rotation for the D x D cross-covariance ``h`` (Kabsch/Umeyama).

    ``h = U S V^T`` gives ``R = V diag(1, ..., 1, d) U^T`` with ``d = det(V U^T)``
    and the trace term ``sum(S * diag)``. Where ``skip`` or ``h`` vanishes, the SVD
    runs on ``diag(1, ..., D)`` instead: its singular values are distinct (so the
    backward pass stays finite) and it gives ``R = I``; the trace term is zero.
    """
    d = h.shape[-1]
    flat = skip | (xp.sum(h * h, axis=(-2, -1)) <= tol)
    eye = _eye(xp, d, h)
    distinct = eye * xp.cumsum(xp.ones_like(eye[0]), axis=0)
    safe = xp.where(flat[..., None, None], distinct, h)
    u, s, vt = xp.linalg.svd(safe)
    v_ut = xp.matmul(xp.swapaxes(vt, -1, -2), xp.swapaxes(u, -1, -2))
    sign = xp.where(xp.linalg.det(v_ut) < 0, -1.0, 1.0)
    diag = xp.concatenate([xp.ones_like(s[..., :-1]), sign[..., None]], axis=-1)
    rotation = xp.matmul(xp.swapaxes(vt, -1, -2) * diag[..., None, :], xp.swapaxes(u, -1, -2))
    trace = xp.where(flat, 0.0, xp.sum(s * diag, axis=-1))
    return rotation, trace


def fit_similarity(
    source: Array, target: Array, mask: Array | None = None, with_scale: bool = True
) -> SimilarityTransform:
    """Fit the similarity transform that best maps ``source`` onto ``target``.

    Least squares over the observed joints: minimises
    ``sum_i w_i |scale * R source_i + translation - target_i|^2`` with ``R`` a
    proper rotation (``det R = +1``, no reflection).

    Parameters
    ----------
    source, target
        Points, shape ``(..., N, D)`` with ``D >= 2``; numpy arrays or torch tensors
        (a tensor in either makes the result a tensor with the source's dtype and
        device). Leading dimensions broadcast.
    mask
        Observed joints, shape ``(..., N)``: booleans (True = observed) or
        non-negative weights. None: every joint observed. Values at unobserved joints
        (weight 0) are ignored, NaN included; observed values must be finite.
    with_scale
        Fit the scale; if False the scale is 1.

    Returns
    -------
    SimilarityTransform
        ``target ≈ scale * source @ rotation^T + translation``.

    Notes
    -----
    2D uses the closed form ``theta = atan2(b, a)``, ``scale = hypot(a, b) / sum w|x|^2``
    with ``a = sum w x.y`` and ``b = sum w x×y`` on centred coordinates; D >= 3 uses
    the SVD of the weighted cross-covariance with the determinant correction.

    Degenerate input never gives NaN (in values nor in torch gradients): with fewer
    than two observed joints, zero total weight, or all observed source joints at
    one point, the fit falls back to ``rotation = I``, ``scale = 1`` and
    ``translation = centroid(target) - centroid(source)`` (weighted, over observed
    joints; zero if nothing is observed). If the observed target joints all lie at
    one point, the least-squares answer is ``rotation = I``, ``scale = 0`` (1 if
    ``with_scale`` is False) and the translation that maps the source centroid onto
    the target point.

    Examples
    --------
    >>> import numpy as np
    >>> source = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> target = 2.0 * source[:, ::-1] * [-1.0, 1.0] + [5.0, 5.0]  # rotated by 90°
    >>> t = fit_similarity(source, target)
    >>> np.round(t.rotation, 6) + 0.0
    array([[ 0., -1.],
           [ 1.,  0.]])
    >>> round(float(t.scale), 6), np.round(t.translation, 6)
    (2.0, array([5., 5.]))
    >>> fit_similarity(source[:1], target[:1]).translation  # degenerate: shift only
    array([5., 5.])

    Gradients flow to the source in torch:

    >>> import torch
    >>> src = torch.tensor(source, requires_grad=True)
    >>> fit_similarity(src, torch.tensor(target)).scale.backward()
    >>> src.grad.shape
    torch.Size([3, 2])
    """
    xp = _namespace(source, target, mask)
    source = _as_float(xp, source)
    target = _as_float(xp, target, like=source)
    dim = source.shape[-1]
    if dim < 2 or target.shape[-1] != dim:
        raise ValueError(
            f"source and target must be (..., N, D) with the same D >= 2, "
            f"got shapes {tuple(source.shape)} and {tuple(target.shape)}"
        )
    weights = xp.ones_like(source[..., 0]) if mask is None else _as_float(xp, mask, like=source)
    observed = weights > 0
    w = xp.where(observed, weights, 0.0)[..., None]
    x = xp.where(observed[..., None], source, 0.0)
    y = xp.where(observed[..., None], target, 0.0)

    total = xp.sum(w, axis=(-2, -1))
    safe_total = xp.where(total > 0, total, 1.0)[..., None]
    mean_x = xp.sum(w * x, axis=-2) / safe_total
    mean_y = xp.sum(w * y, axis=-2) / safe_total
    xc = xp.where(observed[..., None], x - mean_x[..., None, :], 0.0)
    yc = xp.where(observed[..., None], y - mean_y[..., None, :], 0.0)

    eps = _TOLERANCE_FACTOR * xp.finfo(source.dtype).eps
    size_x = xp.sum(w * x * x, axis=(-2, -1))
    size_y = xp.sum(w * y * y, axis=(-2, -1))
    var_x = xp.sum(w * xc * xc, axis=(-2, -1))
    count = xp.sum(xp.where(observed, 1.0, 0.0), axis=-1)
    degenerate = (count < 2) | (var_x <= eps * eps * size_x)

    h = xp.matmul(xp.swapaxes(w * xc, -1, -2), yc)
    solve = _rotation_2d if dim == 2 else _rotation_svd
    rotation, trace = solve(xp, h, degenerate, eps * eps * size_x * size_y)
    if with_scale:
        scale = xp.where(degenerate, 1.0, trace / xp.where(degenerate, 1.0, var_x))
    else:
        scale = xp.ones_like(var_x)
    rotated_mean = xp.matmul(rotation, mean_x[..., None])[..., 0]
    translation = mean_y - scale[..., None] * rotated_mean
    return SimilarityTransform(rotation, scale, translation)


def align(
    source: Array, target: Array, mask: Array | None = None, with_scale: bool = True
) -> tuple[Array, SimilarityTransform]:
    """Align ``source`` onto ``target`` by the best similarity transform.

    Parameters
    ----------
    source, target, mask, with_scale
        As in :func:`fit_similarity`.

    Returns
    -------
    aligned : Array
        Every source joint (observed or not) mapped by the fitted transform,
        shape ``(..., N, D)``.
    transform : SimilarityTransform
        The fitted transform.

    Examples
    --------
    >>> import numpy as np
    >>> source = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> target = 3.0 * source + 1.0
    >>> aligned, t = align(source, target)
    >>> bool(np.allclose(aligned, target)), round(float(t.scale), 6)
    (True, 3.0)
    """
    transform = fit_similarity(source, target, mask, with_scale)
    return transform.apply(_as_float(_namespace(source, target, mask), source)), transform
