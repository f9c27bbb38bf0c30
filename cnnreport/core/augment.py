"""Batched data augmentation on the training device.

Every augmentation works on a whole batch at once, ``(B, C, H, W)`` float pixels in
``[0, 1]``, draws its randomness from a ``torch.Generator`` it is handed, and does no
per-image Python: a batch of 512 costs a handful of tensor ops on CPU or GPU alike.

Augmentations are classes registered by name in :data:`AUGMENTATIONS` (``"crop"`` is
:class:`RandomCrop`: class names stay CapWords; ``AUGMENTATIONS.info("crop").builder``
names the class); ``AUGMENTATIONS.build("crop", padding=4)`` builds one.  A config
lists them as names or dicts, e.g. ``["crop", "flip", {"name": "erasing", "p": 0.5}]``,
and :func:`build_augmentations` turns that list into the pipeline of callables applied
in order (``"none"`` dropped, bad arguments a ``ValueError``).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .registry import Registry

AUGMENTATIONS = Registry("augmentation")

AugSpec = Union[str, Dict[str, Any]]


class Augmentation:
    """Base class.  ``after_normalize`` marks ops that act on normalised pixels."""

    after_normalize = False

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:  # (B, C, H, W)
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _rand(shape, g: torch.Generator, device) -> torch.Tensor:
    return torch.rand(shape, generator=g, device=device)


def _check_p(p: float, name: str) -> float:
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{name}: probability p must be in [0, 1], got {p}")
    return float(p)


@AUGMENTATIONS.register("none")
class Identity(Augmentation):
    """No augmentation."""

    def __call__(self, x, g):
        return x


@AUGMENTATIONS.register("crop")
class RandomCrop(Augmentation):
    """Random crop back to the input size after zero-padding ``padding`` pixels per side.

    Offsets are uniform over ``[0, 2 * padding]`` in each axis, independently per image,
    as torchvision's ``RandomCrop(size, padding)`` (padding is black, before normalising).
    """

    def __init__(self, padding: int = 4):
        if int(padding) != padding or padding < 0:
            raise ValueError(f"crop: padding must be a non-negative integer (pixels), got {padding}")
        self.padding = int(padding)

    def __call__(self, x, g):
        p = self.padding
        if p == 0:
            return x
        B, C, H, W = x.shape
        padded = F.pad(x, (p, p, p, p))  # (B, C, H+2p, W+2p)
        dy = torch.randint(0, 2 * p + 1, (B,), generator=g, device=x.device)
        dx = torch.randint(0, 2 * p + 1, (B,), generator=g, device=x.device)
        rows = (dy[:, None] + torch.arange(H, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
        cols = (dx[:, None] + torch.arange(W, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
        b = torch.arange(B, device=x.device)[:, None, None, None]
        c = torch.arange(C, device=x.device)[None, :, None, None]
        return padded[b, c, rows, cols]  # (B, C, H, W)


@AUGMENTATIONS.register("flip")
class RandomHorizontalFlip(Augmentation):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = _check_p(p, "flip")

    def __call__(self, x, g):
        mask = _rand((x.shape[0], 1, 1, 1), g, x.device) < self.p
        return torch.where(mask, x.flip(3), x)


@AUGMENTATIONS.register("erasing")
class RandomErasing(Augmentation):
    """Erase one random rectangle per image with probability ``p`` (torchvision semantics).

    The rectangle's area is ``scale`` (a fraction of the image, uniform) and its aspect
    ratio ``ratio`` (log-uniform); up to 10 draws are tried and the first that fits is
    used, else the image is left as it is.  It acts after normalisation and fills with
    ``value`` there (0, the dataset mean, as torchvision's default).
    """

    after_normalize = True

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: float = 0.0):
        self.p = _check_p(p, "erasing")
        s0, s1 = map(float, scale)
        r0, r1 = map(float, ratio)
        if not 0 < s0 <= s1 <= 1:
            raise ValueError(f"erasing: scale must satisfy 0 < min <= max <= 1, got {scale}")
        if not 0 < r0 <= r1:
            raise ValueError(f"erasing: ratio must satisfy 0 < min <= max, got {ratio}")
        self.scale, self.ratio, self.value = (s0, s1), (r0, r1), float(value)

    def __call__(self, x, g):
        B, C, H, W = x.shape
        dev, tries = x.device, 10
        area = H * W * (self.scale[0] + (self.scale[1] - self.scale[0]) * _rand((B, tries), g, dev))
        lo, hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        ratio = torch.exp(lo + (hi - lo) * _rand((B, tries), g, dev))
        h = torch.sqrt(area * ratio).round().long()  # (B, tries)
        w = torch.sqrt(area / ratio).round().long()
        ok = (h < H) & (w < W)
        first = torch.where(ok.any(1), ok.float().argmax(1), torch.zeros_like(ok[:, 0], dtype=torch.long))
        pick = lambda t: t.gather(1, first[:, None])[:, 0]
        h, w = pick(h), pick(w)
        apply = ok.any(1) & (_rand((B,), g, dev) < self.p)
        # Top-left corner uniform over the positions where the rectangle fits.
        y0 = (_rand((B,), g, dev) * (H - h + 1).clamp(min=1)).floor().long()
        x0 = (_rand((B,), g, dev) * (W - w + 1).clamp(min=1)).floor().long()
        r = torch.arange(H, device=dev)[None, :, None]
        c = torch.arange(W, device=dev)[None, None, :]
        mask = ((r >= y0[:, None, None]) & (r < (y0 + h)[:, None, None]) &
                (c >= x0[:, None, None]) & (c < (x0 + w)[:, None, None]) & apply[:, None, None])
        return x.masked_fill(mask[:, None], self.value)  # (B, C, H, W)


class _Affine(Augmentation):
    """Shared machinery: a per-image 2x3 affine matrix applied with grid_sample."""

    def _apply(self, x, theta, mask):
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return torch.where(mask[:, None, None, None], out, x)


@AUGMENTATIONS.register("rotate")
class RandomRotation(_Affine):
    """Rotate each image by a uniform angle in ``[-degrees, degrees]`` with probability ``p``
    (report 004: 10 degrees, p 0.5); corners are filled with black."""

    def __init__(self, degrees: float = 10.0, p: float = 0.5):
        if degrees < 0:
            raise ValueError(f"rotate: degrees must be >= 0, got {degrees}")
        self.degrees, self.p = float(degrees), _check_p(p, "rotate")

    def __call__(self, x, g):
        B, dev = x.shape[0], x.device
        a = (2 * _rand((B,), g, dev) - 1) * math.radians(self.degrees)
        cos, sin, zero = torch.cos(a), torch.sin(a), torch.zeros_like(a)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        return self._apply(x, theta, _rand((B,), g, dev) < self.p)


@AUGMENTATIONS.register("translate")
class RandomTranslate(_Affine):
    """Shift each image by up to ``fraction`` of its size in x and y (uniform) with
    probability ``p`` (report 004: 10%, p 0.5); uncovered pixels are black."""

    def __init__(self, fraction: float = 0.1, p: float = 0.5):
        if not 0 <= fraction < 1:
            raise ValueError(f"translate: fraction must be in [0, 1), got {fraction}")
        self.fraction, self.p = float(fraction), _check_p(p, "translate")

    def __call__(self, x, g):
        B, dev = x.shape[0], x.device
        # affine_grid works in [-1, 1] coordinates: a shift of f * size is 2 * f.
        t = (2 * _rand((B, 2), g, dev) - 1) * 2 * self.fraction
        one, zero = torch.ones(B, device=dev), torch.zeros(B, device=dev)
        theta = torch.stack([torch.stack([one, zero, t[:, 0]], 1), torch.stack([zero, one, t[:, 1]], 1)], 1)
        return self._apply(x, theta, _rand((B,), g, dev) < self.p)


def normalize_spec(spec: AugSpec) -> Tuple[str, Dict[str, Any]]:
    """``"crop"`` or ``{"name": "crop", "padding": 4}`` -> ``("crop", {"padding": 4})``."""
    if isinstance(spec, str):
        return spec.lower(), {}
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        kw = {k: v for k, v in spec.items() if k != "name"}
        return spec["name"].lower(), kw
    raise ValueError(f"an augmentation must be a name or a dict with a 'name' key, got {spec!r}; "
                     f"names: {', '.join(AUGMENTATIONS.names())}")


def build_augmentations(specs: Sequence[AugSpec]) -> List[Augmentation]:
    """Build the listed augmentations, validating names and arguments up front."""
    out = []
    for spec in specs or ():
        name, kw = normalize_spec(spec)
        AUGMENTATIONS.get(name)  # an unknown name: UnknownNameError listing the allowed ones
        try:
            out.append(AUGMENTATIONS.build(name, **kw))
        except TypeError as e:
            raise ValueError(f"augmentation {name!r}: bad arguments {kw} ({e})") from e
    return [a for a in out if not isinstance(a, Identity)]
