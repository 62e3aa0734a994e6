"""The JUMPS networks: generator G, critic D and encoder E (paper Fig. 4, DCGAN style).

All three work on the grid representation of :mod:`posekit.jumps.grid`: a window of
``F = 24`` frames of the 28-joint layout as a ``(4, 24, 18)`` image (channels first).

- :class:`Generator` maps a latent code ``z`` (64 numbers, prior ``N(0, I)``) to a grid
  ``(B, 4, 24, 18)`` through transposed convolutions, BatchNorm and ReLU. It outputs
  both copies of every axial joint; :meth:`Generator.positions` averages them (through
  :func:`posekit.jumps.grid.from_grid`) into one pose ``(B, 24, 28, 2)``. The convolutions
  build a ``24 x 24`` image, cropped to the 18 grid columns.
- :class:`Critic` (the WGAN "discriminator") maps a grid to one score through strided
  convolutions and LeakyReLU. **ours**: LayerNorm (``GroupNorm(1, C)``) instead of
  BatchNorm, which would couple the samples of a batch and break the per-sample
  gradient penalty of WGAN-GP.
- :class:`Encoder` is the critic's architecture with a latent-sized output. **ours**: it
  reads 8 channels, the 4 coordinate channels of a possibly *partial* window (missing
  joints set to 0) and the 4 channels of the grid of its visibility mask, after the
  normalization of :func:`posekit.jumps.encoding.encoder_input`; so ``E`` can encode
  the partial windows that inpainting starts from. It also holds the dataset mean pose
  that the normalization uses (buffer ``mean_pose``).

**ours**, optional (``linear_path`` in the architecture): G adds a linear map of the code
to its convolutions' output and E adds the posterior mean of that linear code
(:class:`_WindowPosterior`); training starts both as the principal components of the
training windows, so that G keeps at least what a linear code of its size keeps.

Parameter counts (:func:`parameter_counts`): G 1,159,240, D 1,115,921, E 1,145,132,
close to the paper's 1,148,480 / 1,115,393 / 1,148,096 (the paper gives no layer sizes;
these are **ours**).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from posekit.jumps.grid import CHANNELS, N_ENTRIES, from_grid, to_grid

LATENT = 64
"""Size of the latent code (**ours**; the paper does not give it)."""
FRAMES = 24
"""Frames per window (the paper's F)."""
N_JOINTS = 28

_GEN_WIDTH = 24
"""The generator builds a FRAMES x 24 image; columns [3, 21) are the 18 grid entries."""
_CROP = (_GEN_WIDTH - N_ENTRIES) // 2


class Generator(nn.Module):
    """DCGAN generator: latent ``(B, latent)`` -> grid ``(B, 4, 24, 18)``.

    Layers: a 3 x 3 transposed convolution from the 1 x 1 latent "image", then three
    stride-2 transposed convolutions (3 -> 6 -> 12 -> 24 rows and columns), each but the
    last followed by BatchNorm and ReLU; the output is linear (coordinates are not
    bounded) and cropped to 18 columns. **ours**: the convolutions produce an offset
    from the dataset mean pose (buffer ``mean_grid``, the mean pose repeated over the
    frames), so that an untrained generator already outputs a body shape: the
    Procrustes-aligned reconstruction loss has a useful gradient from the first step
    (from a near-zero output the alignment collapses to scale 0 and training stalls).

    Examples
    --------
    >>> g = Generator().eval()
    >>> g(torch.zeros(2, LATENT)).shape
    torch.Size([2, 4, 24, 18])
    >>> g.positions(torch.zeros(2, LATENT)).shape
    torch.Size([2, 24, 28, 2])
    """

    def __init__(
        self,
        latent: int = LATENT,
        widths: tuple[int, int, int] = (312, 156, 78),
        mean_pose: Tensor | None = None,
        linear_path: bool = False,
    ):
        super().__init__()
        self.latent = latent
        self.linear = _window_decoder(latent) if linear_path else None
        if mean_pose is None:
            from posekit.jumps.encoding import default_mean_pose

            mean_pose = default_mean_pose()
        mean_grid = to_grid(torch.as_tensor(mean_pose, dtype=torch.float32).expand(FRAMES, -1, -1))
        self.register_buffer("mean_grid", mean_grid.contiguous())
        c1, c2, c3 = widths
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent, c1, 3, bias=False),  # 1x1 -> 3x3
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=False),  # -> 6x6
            nn.BatchNorm2d(c2),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c2, c3, 4, 2, 1, bias=False),  # -> 12x12
            nn.BatchNorm2d(c3),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c3, CHANNELS, 4, 2, 1),  # -> 24x24
        )

    def forward(self, z: Tensor) -> Tensor:
        """Grids ``(B, 4, 24, 18)`` with both copies of the axial joints."""
        image = self.net(z.reshape(z.shape[0], self.latent, 1, 1))
        grid = image[..., _CROP : _CROP + N_ENTRIES] + self.mean_grid
        if self.linear is not None:
            grid = grid + to_grid(self.linear(z).reshape(z.shape[0], FRAMES, N_JOINTS, 2))
        return grid

    def positions(self, z: Tensor) -> Tensor:
        """Poses ``(B, 24, 28, 2)``: the generated grids with axial copies averaged."""
        return from_grid(self(z))


class TemporalGenerator(nn.Module):
    """Generator fully convolutional in time (**ours**; the paper's future work).

    The latent code keeps a time axis: ``z`` holds ``latent_frames`` steps of
    ``latent // latent_frames`` channels (a flat ``(B, latent)`` vector outside, so the
    prior, the encoder and the latent optimisation are the same as for
    :class:`Generator`). A 1D convolution over those steps, two stride-2 transposed
    convolutions (``latent_frames`` -> x2 -> x4 = 24 frames) with BatchNorm and ReLU and
    a last linear convolution give the 28 x 2 coordinates of every frame, an offset from
    the dataset mean pose; the output is their grid, like :class:`Generator`'s.

    Each output frame depends on the few latent steps around it, so the code spends its
    numbers where the motion is rather than on one summary of the window: at the same
    training budget it keeps much more of a window (the model card's ceiling table).

    Examples
    --------
    >>> g = TemporalGenerator(latent=96, latent_frames=6).eval()
    >>> g(torch.zeros(2, 96)).shape
    torch.Size([2, 4, 24, 18])
    """

    def __init__(
        self,
        latent: int = 192,
        latent_frames: int = 6,
        widths: tuple[int, int, int] = (384, 256, 192),
        mean_pose: Tensor | None = None,
        linear_path: bool = False,
    ):
        super().__init__()
        if latent_frames * 4 != FRAMES or latent % latent_frames:
            raise ValueError(
                f"latent_frames must be {FRAMES // 4} and divide latent, got "
                f"latent={latent}, latent_frames={latent_frames}"
            )
        self.latent = latent
        self.latent_frames = latent_frames
        self.linear = _window_decoder(latent) if linear_path else None
        if mean_pose is None:
            from posekit.jumps.encoding import default_mean_pose

            mean_pose = default_mean_pose()
        self.register_buffer(
            "mean_frame", torch.as_tensor(mean_pose, dtype=torch.float32).reshape(1, -1, 1)
        )
        c1, c2, c3 = widths
        self.net = nn.Sequential(
            nn.Conv1d(latent // latent_frames, c1, 3, padding=1, bias=False),
            nn.BatchNorm1d(c1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose1d(c1, c2, 4, 2, 1, bias=False),  # x2 frames
            nn.BatchNorm1d(c2),
            nn.ReLU(inplace=True),
            nn.ConvTranspose1d(c2, c3, 4, 2, 1, bias=False),  # x4 frames
            nn.BatchNorm1d(c3),
            nn.ReLU(inplace=True),
            nn.Conv1d(c3, 2 * N_JOINTS, 3, padding=1),
        )

    def forward(self, z: Tensor) -> Tensor:
        """Grids ``(B, 4, 24, 18)`` (both copies of an axial joint are equal)."""
        return to_grid(self.positions(z))

    def positions(self, z: Tensor) -> Tensor:
        """Poses ``(B, 24, 28, 2)``."""
        frames = self.net(z.reshape(z.shape[0], -1, self.latent_frames)) + self.mean_frame
        poses = frames.transpose(1, 2).reshape(z.shape[0], FRAMES, N_JOINTS, 2)
        if self.linear is not None:
            poses = poses + self.linear(z).reshape(poses.shape)
        return poses


def _window_decoder(latent: int) -> nn.Linear:
    """The generators' linear path (**ours**): code -> a whole window ``F x 28 x 2``,
    added to the convolutions' output. Zero until set (training sets it to the
    principal components of the training windows, so that the generator keeps at least
    what a linear code of its size keeps)."""
    layer = nn.Linear(latent, FRAMES * N_JOINTS * 2)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class _ConvTrunk(nn.Module):
    """Strided convolutions + LayerNorm + LeakyReLU, then a two-layer head.

    ``(B, in_channels, 24, 18)`` -> 12 x 9 -> 6 x 4 -> 3 x 2 -> flatten -> hidden -> out.
    """

    def __init__(self, in_channels: int, out: int, widths: tuple[int, int, int], hidden: int):
        super().__init__()
        c1, c2, c3 = widths
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 4, 2, 1),  # 24x18 -> 12x9 (no norm on the first layer)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c1, c2, 4, 2, 1),  # -> 6x4
            nn.GroupNorm(1, c2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c2, c3, 4, 2, 1),  # -> 3x2
            nn.GroupNorm(1, c3),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
        )
        flat = c3 * (FRAMES // 8) * ((N_ENTRIES // 2 // 2 + 1) // 2)
        self.head = nn.Sequential(
            nn.Linear(flat, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, out),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class Critic(_ConvTrunk):
    """WGAN critic: grid ``(B, 4, 24, 18)`` -> score ``(B,)``.

    Examples
    --------
    >>> Critic()(torch.zeros(3, 4, 24, 18)).shape
    torch.Size([3])
    """

    def __init__(self, widths: tuple[int, int, int] = (64, 128, 256), hidden: int = 296):
        super().__init__(CHANNELS, 1, widths, hidden)

    def forward(self, grid: Tensor) -> Tensor:
        return super().forward(grid)[:, 0]

    def score_positions(self, positions: Tensor) -> Tensor:
        """Scores of poses ``(B, 24, 28, 2)`` (axial joints duplicated into the grid)."""
        return self(to_grid(positions))


class Encoder(_ConvTrunk):
    """Encoder: 8-channel grid ``(B, 8, 24, 18)`` -> latent ``(B, latent)``.

    The input is :func:`posekit.jumps.encoding.encoder_input`'s: normalized coordinates
    (missing joints 0) and the visibility mask, both as grids. :meth:`encode` does the
    normalization from poses and a mask.

    Examples
    --------
    >>> e = Encoder().eval()
    >>> e(torch.zeros(2, 8, 24, 18)).shape
    torch.Size([2, 64])
    >>> e.encode(torch.randn(2, 24, 28, 2), torch.ones(2, 24, 28, dtype=torch.bool)).shape
    torch.Size([2, 64])
    """

    #: The mean pose the normalization fits to (a buffer: saved with the weights).
    mean_pose: Tensor

    def __init__(
        self,
        latent: int = LATENT,
        widths: tuple[int, int, int] = (64, 128, 256),
        hidden: int = 300,
        mean_pose: Tensor | None = None,
        linear_path: bool = False,
    ):
        super().__init__(2 * CHANNELS, latent, widths, hidden)
        self.latent = latent
        self.linear = _WindowPosterior(latent) if linear_path else None
        if mean_pose is None:
            from posekit.jumps.encoding import default_mean_pose

            mean_pose = default_mean_pose()
        self.register_buffer("mean_pose", torch.as_tensor(mean_pose, dtype=torch.float32))

    def encode(self, positions: Tensor, mask: Tensor | None = None) -> Tensor:
        """Latent codes of (partial) windows.

        Parameters
        ----------
        positions
            ``(B, 24, 28, 2)``; values at missing joints are ignored (NaN allowed).
        mask
            ``(B, 24, 28)`` booleans, True = observed; None: observed where finite.
        """
        from posekit.jumps.encoding import encoder_input

        grid, _ = encoder_input(positions, mask, self.mean_pose)
        return self(grid)

    def forward(self, x: Tensor) -> Tensor:
        """Codes ``(B, latent)`` of 8-channel grids ``(B, 8, 24, 18)``; with the linear
        path (**ours**), the convolutions' codes are added to :class:`_WindowPosterior`'s."""
        code = super().forward(x)
        if self.linear is not None:
            positions = from_grid(x[:, :CHANNELS])
            observed = from_grid(x[:, CHANNELS:])[..., 0] > 0.5
            code = code + self.linear(positions, observed)
        return code


class _WindowPosterior(nn.Module):
    """The encoder's linear path (**ours**): the posterior mean of a linear code.

    With a linear generator ``x = W z + mean + noise`` (probabilistic PCA: ``z ~ N(0, I)``,
    noise variance ``noise`` per coordinate), the code of a window observed at some
    coordinates has the posterior mean ``(I + W_o^T W_o / noise)^-1 W_o^T (x_o - mean_o)
    / noise``, where ``_o`` keeps the observed coordinates. It is exact for any set of
    observed joints, so the one map serves every kind of partial window: a whole window
    gets (almost) its PCA code, twelve joints their completion under the code's
    covariance (a poor one: it ranks directions by variance, not by what the twelve
    joints predict; the convolutions learn the rest). The buffers are zero until
    training sets them to the generator's first linear path
    (:mod:`training.linear_code`), and are saved with the weights.
    """

    #: The linear generator: ``W`` (D, latent), the mean window (D,) and the noise variance.
    weight: Tensor
    mean: Tensor
    noise: Tensor

    def __init__(self, latent: int):
        super().__init__()
        size = FRAMES * N_JOINTS * 2
        self.register_buffer("weight", torch.zeros(size, latent))
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("noise", torch.ones(()))

    def forward(self, positions: Tensor, observed: Tensor) -> Tensor:
        """Codes ``(B, latent)`` of poses ``(B, 24, 28, 2)`` observed where ``observed``
        ``(B, 24, 28)`` is True (other values ignored)."""
        # float64: with little noise the precision is too ill-conditioned for float32.
        n, latent = len(positions), self.weight.shape[1]
        weight = self.weight.double()
        cells = weight.reshape(FRAMES * N_JOINTS, 2, latent)  # one (x, y) pair per frame and joint
        cell_grams = (cells.transpose(1, 2) @ cells).reshape(FRAMES * N_JOINTS, -1)
        seen = observed.reshape(n, -1).double()
        gram = (seen @ cell_grams).reshape(n, latent, latent)  # W_o^T W_o
        flat = positions.reshape(n, -1).double() - self.mean.double()
        residual = torch.where(seen.repeat_interleave(2, dim=1) > 0, flat, 0)
        noise = self.noise.double()
        eye = torch.eye(latent, dtype=weight.dtype, device=weight.device)
        factor = torch.linalg.cholesky(gram / noise + eye)
        code = torch.cholesky_solve((residual @ weight)[..., None] / noise, factor)[..., 0]
        return code.to(positions.dtype)


ARCHITECTURE: dict[str, object] = {
    "generator": "dcgan",
    "latent": LATENT,
    "latent_frames": 1,
    "frames": FRAMES,
    "generator_widths": [312, 156, 78],
    "critic_widths": [64, 128, 256],
    "critic_hidden": 296,
    "encoder_widths": [64, 128, 256],
    "encoder_hidden": 300,
    "linear_path": False,
}
"""The default sizes (**ours**), as stored in a checkpoint's metadata."""


def build_networks(
    architecture: dict | None = None,
    mean_pose: Tensor | None = None,
    names: tuple[str, ...] = ("G", "D", "E"),
) -> dict[str, nn.Module]:
    """The networks ``{"G": ..., "D": ..., "E": ...}`` of an architecture (default sizes).

    Parameters
    ----------
    architecture
        Sizes as in :data:`ARCHITECTURE` (missing keys take the default);
        ``generator`` is ``dcgan`` (the paper's, :class:`Generator`) or ``temporal``
        (:class:`TemporalGenerator`, whose code has ``latent_frames`` time steps);
        ``linear_path`` adds a linear map beside the convolutions of G and E (**ours**).
    mean_pose
        The dataset mean pose ``(28, 2)`` (the generator's offset origin and the
        encoder's normalization target); default: a rough standing pose.
    names
        Which networks to build.
    """
    arch = {**ARCHITECTURE, **(architecture or {})}
    if int(arch["frames"]) != FRAMES:
        raise ValueError(f"the networks are built for {FRAMES}-frame windows, got {arch['frames']}")
    latent = int(arch["latent"])
    linear = bool(arch["linear_path"])
    generators = {
        "dcgan": lambda: Generator(latent, tuple(arch["generator_widths"]), mean_pose, linear),
        "temporal": lambda: TemporalGenerator(
            latent, int(arch["latent_frames"]), tuple(arch["generator_widths"]), mean_pose, linear
        ),
    }
    if arch["generator"] not in generators:
        raise ValueError(f"generator must be one of {sorted(generators)}, got {arch['generator']!r}")
    makers = {
        "G": generators[str(arch["generator"])],
        "D": lambda: Critic(tuple(arch["critic_widths"]), int(arch["critic_hidden"])),
        "E": lambda: Encoder(
            latent, tuple(arch["encoder_widths"]), int(arch["encoder_hidden"]), mean_pose, linear
        ),
    }
    return {name: makers[name]() for name in names}


def count_parameters(module: nn.Module) -> int:
    """Number of learnable parameters (whether or not currently frozen; buffers excluded)."""
    return sum(p.numel() for p in module.parameters())


def parameter_counts(networks: dict[str, nn.Module] | None = None) -> dict[str, int]:
    """Trainable parameters per network (default sizes when ``networks`` is None).

    Examples
    --------
    >>> counts = parameter_counts()
    >>> sorted(counts)
    ['D', 'E', 'G']
    >>> all(1_000_000 < n < 1_250_000 for n in counts.values())
    True
    """
    networks = build_networks() if networks is None else networks
    return {name: count_parameters(net) for name, net in networks.items()}
