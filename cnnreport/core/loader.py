"""A batch loader whose images live on the training device.

The whole training set is copied to the device once, as uint8 ``(N, C, H, W)``
(CIFAR-10 is 150 MB).  Each batch is gathered by index, converted to float,
augmented as a batch (see :mod:`cnnreport.core.augment`) and normalised there: no PIL, no
worker processes, no host-to-device copy per step.  The same code runs on the CPU.

Randomness: epoch ``e`` of a loader with seed ``s`` draws its shuffle and augmentation
from a generator seeded with ``(s, e)`` alone, so any epoch can be replayed exactly,
which is what makes resuming a run after a crash bit-identical.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .augment import AugSpec, build_augmentations


def to_nchw_uint8(images: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """(N, H, W) or (N, H, W, C) uint8 -> (N, C, H, W) uint8 tensor (no copy if possible)."""
    t = torch.as_tensor(images)
    if t.dtype != torch.uint8:
        raise TypeError(f"images must be uint8, got {t.dtype}")
    if t.ndim == 3:
        return t[:, None]  # (N, 1, H, W)
    if t.ndim == 4:
        return t.permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)
    raise ValueError(f"images must be (N,H,W) or (N,H,W,C), got shape {tuple(t.shape)}")


def _epoch_seed(seed: int, epoch: int) -> int:
    # A fixed mixing of (seed, epoch) into one 63-bit seed; the constants are arbitrary odd numbers.
    return (seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + 1) % (2 ** 63)


class DeviceLoader:
    """Iterate over ``(x, y)`` batches: ``x`` float ``(B, C, H, W)`` normalised, ``y`` int64 ``(B,)``.

    Args:
        images: uint8 ``(N, H, W)`` or ``(N, H, W, C)``.
        labels: integer ``(N,)``.
        batch_size: images per batch.
        mean, std: per-channel normalisation on ``[0, 1]`` pixels.
        augment: augmentation specs (names or dicts), applied in order; ``()`` for none.
        shuffle: a new permutation each epoch.
        drop_last: skip the last, smaller batch.
        seed: fixes the shuffles and augmentations of every epoch.
        device: where images live and batches are made.
        channels_last: return batches in channels-last memory format.
    """

    def __init__(self, images, labels, batch_size: int, *, mean: Sequence[float],
                 std: Sequence[float], augment: Sequence[AugSpec] = (), shuffle: bool = True,
                 drop_last: bool = False, seed: int = 0, device: Union[str, torch.device] = "cpu",
                 channels_last: bool = False):
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.device = torch.device(device)
        self.images = to_nchw_uint8(images).to(self.device)  # (N, C, H, W) uint8
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long).to(self.device)  # (N,)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        C = self.images.shape[1]
        if len(mean) != C or len(std) != C:
            raise ValueError(f"mean/std need {C} values for {C}-channel images, got {mean}, {std}")
        self.mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, C, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, C, 1, 1)
        self.augs = build_augmentations(augment)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.seed, self.channels_last = int(seed), channels_last
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.labels), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    @property
    def num_samples(self) -> int:
        return len(self.labels) if not self.drop_last else len(self) * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` produce epoch ``epoch``."""
        self.epoch = int(epoch)

    def generator(self, epoch: int) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed(_epoch_seed(self.seed, epoch))
        return g

    def transform(self, raw: torch.Tensor, g: Optional[torch.Generator]) -> torch.Tensor:
        """uint8 ``(B, C, H, W)`` -> augmented (when ``g`` is given) normalised float batch."""
        x = raw.float().div_(255.0)  # (B, C, H, W) in [0, 1]
        if g is not None:
            for a in self.augs:
                if not a.after_normalize:
                    x = a(x, g)
        x = (x - self.mean) / self.std
        if g is not None:
            for a in self.augs:
                if a.after_normalize:
                    x = a(x, g)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        g = self.generator(epoch)
        n = len(self.labels)
        order = torch.randperm(n, generator=g, device=self.device) if self.shuffle else \
            torch.arange(n, device=self.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.transform(self.images[idx], g if self.augs else None), self.labels[idx]

    def __repr__(self) -> str:
        return (f"DeviceLoader(n={len(self.labels)}, batch_size={self.batch_size}, "
                f"augment={self.augs}, device={self.device})")
