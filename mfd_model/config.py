"""All hyperparameters of the MFD network in one object (docs/method.md sections 2, 4, 5).

``ModelConfig`` is checked when it is built: an impossible combination (a sequence length
the pooling cannot divide, no single central bin, odd latent size, a receptive field that
leaves input bases unused) raises :class:`~mfd_model.errors.ConfigError` with the fix.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from .errors import ConfigError
from .yamlio import check_keys

HeadKind = Literal["mfd", "baseline"]


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of the Basenji2-style trunk, the MFD head and the adversaries.

    Attributes:
        seq_len: input window in bp (paper: 1152).
        channels: ``C``, width of the last tower layer (code: 30 or 120).
        latent_dim: ``C_embed``, number of latent features; half biological, half technical.
            ``None`` means ``channels``. The original code used ``2 * channels``, but the latent
            features are a linear map of ``channels`` activations (the last block is BatchNorm ->
            GELU -> a 1x1 convolution), so with ``latent_dim > channels`` their rank is at most
            ``channels`` and the technical half is, generically, an exact linear function of the
            biological half: no penalty can make them independent, it can only make that map
            ill-conditioned (measured: least-squares R2 = 1.0 at any lambda). With
            ``latent_dim <= channels`` the halves can read different directions.
        n_tower_layers: conv + pool repeats after the stem; the bin size is ``2 ** (n + 1)``.
        n_dilated_layers: residual dilated conv layers (dilation ``int(2 * rate ** l)``).
        stem_kernel / tower_kernel / dilated_kernel: convolution widths.
        dilation_rate: growth of the dilation per dilated layer.
        dropout: dropout after each conv block (0 disables).
        head: ``"mfd"`` (metadata hypernetwork) or ``"baseline"`` (plain linear head).
        interact_hidden: ``h`` of the interaction MLP ``Linear(in, 2h)-ReLU-...``.
        adversary_hidden: width of the adversarial predictors (docs/method.md section 5: 1024).
        adversary_layers: hidden layers of each adversary (docs/method.md section 5: 3).
    """

    seq_len: int = 1152
    channels: int = 120
    latent_dim: int | None = None
    n_tower_layers: int = 6
    n_dilated_layers: int = 2
    stem_kernel: int = 15
    tower_kernel: int = 5
    dilated_kernel: int = 3
    dilation_rate: float = 1.5
    dropout: float = 0.0
    head: HeadKind = "mfd"
    interact_hidden: int = 64
    adversary_hidden: int = 1024
    adversary_layers: int = 3

    def __post_init__(self) -> None:
        if self.latent_dim is None:
            object.__setattr__(self, "latent_dim", self.channels)
        self._check()

    # ----------------------------------------------------------------- derived sizes
    @property
    def bin_size(self) -> int:
        """Resolution of the trunk's output in bp (the stem pool plus one per tower layer)."""
        return 2 ** (self.n_tower_layers + 1)

    @property
    def n_bins(self) -> int:
        """Trunk positions before the crop (``seq_len / bin_size``)."""
        return self.seq_len // self.bin_size

    @property
    def half_dim(self) -> int:
        """Size of each latent subspace (biological, technical)."""
        return self.latent_dim // 2

    @property
    def tower_channels(self) -> list[int]:
        """Channels ``c_l = int(C/2 * 2 ** (l / n))``, l = 0..n (C=120: 60, 67, 75, 84, 95, 106, 120)."""
        n = self.n_tower_layers
        return [int(self.channels / 2 * 2 ** (l / n)) for l in range(n + 1)] if n else [self.channels // 2]

    @property
    def dilations(self) -> list[int]:
        return [int(2 * self.dilation_rate ** l) for l in range(self.n_dilated_layers)]

    @property
    def receptive_field(self) -> int:
        """Receptive field of one output bin in bp (one output position of the trunk)."""
        rf, jump = self.stem_kernel, 1
        rf += jump; jump *= 2                                  # stem max-pool
        for _ in range(self.n_tower_layers):
            rf += (self.tower_kernel - 1) * jump               # conv
            rf += jump; jump *= 2                              # max-pool
        for d in self.dilations:
            rf += (self.dilated_kernel - 1) * d * jump
        return rf

    # ----------------------------------------------------------------- checks
    def _check(self) -> None:
        def fail(msg: str, fix: str) -> None:
            raise ConfigError(f"invalid model config: {msg}", fix=fix)

        for name in ("seq_len", "channels", "latent_dim", "stem_kernel", "tower_kernel",
                     "dilated_kernel", "interact_hidden", "adversary_hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(f"{name} must be a positive integer, got {value!r}", f"set {name} to an integer >= 1")
        for name in ("n_tower_layers", "n_dilated_layers", "adversary_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                fail(f"{name} must be an integer >= 0, got {value!r}", f"set {name} to 0 or more")
        if self.head not in ("mfd", "baseline"):
            fail(f"head must be 'mfd' or 'baseline', got {self.head!r}", "use head: mfd or head: baseline")
        if not 0.0 <= self.dropout < 1.0:
            fail(f"dropout must be in [0, 1), got {self.dropout}", "set dropout between 0 and 1")
        if self.channels % 2:
            fail(f"channels must be even (the stem has channels/2), got {self.channels}", "use an even number")
        if self.latent_dim % 2:
            fail(f"latent_dim must be even (two equal subspaces), got {self.latent_dim}", "use an even number")
        if self.seq_len % self.bin_size:
            fail(f"seq_len {self.seq_len} is not a multiple of the bin size {self.bin_size} "
                 f"(2 ** (n_tower_layers + 1))",
                 f"use seq_len = k * {self.bin_size} with odd k, e.g. {9 * self.bin_size}")
        if self.n_bins % 2 == 0:
            fail(f"seq_len {self.seq_len} gives {self.n_bins} bins of {self.bin_size} bp: no single central bin",
                 f"use an odd number of bins, e.g. seq_len {(self.n_bins + 1) * self.bin_size}")
        if self.receptive_field < self.seq_len:
            fail(f"receptive field {self.receptive_field} bp is smaller than seq_len {self.seq_len}: "
                 f"outer bases could never influence the prediction",
                 "shorten seq_len, or add tower / dilated layers")

    # ----------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        """Build from a mapping; unknown keys are a :class:`ConfigError` naming them."""
        known = {f.name for f in fields(cls)}
        check_keys(values, known, unknown="unknown model config key(s): {keys}",
                   fix=f"known keys are {', '.join(sorted(known))}", not_a_mapping="the model config must be a mapping")
        return cls(**values)

    def describe(self) -> str:
        """Human summary of the derived sizes."""
        return (f"seq_len {self.seq_len} bp -> {self.n_bins} bins of {self.bin_size} bp, central bin predicted; "
                f"receptive field {self.receptive_field} bp; tower channels {self.tower_channels}; "
                f"dilations {self.dilations}; latent {self.latent_dim} = {self.half_dim} biological + "
                f"{self.half_dim} technical; head {self.head}")
