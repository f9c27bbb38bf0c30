"""The plain-PyTorch contender: the textbook input pipeline and training loop.

This is a *benchmark baseline*, not a training loop of the project: what most CIFAR
tutorials write, kept minimal on purpose so that it measures the common practice.

* data: a ``torch.utils.data.Dataset`` over the same uint8 arrays, one PIL image per
  sample through torchvision transforms (``RandomCrop(32, padding=4)``,
  ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``), batched by a ``DataLoader``
  with worker processes and, on CUDA, pinned memory;
* step: fp32 forward, ``nn.CrossEntropyLoss``, backward, ``torch.optim.SGD`` with its
  default (foreach) implementation, one ``.to(device)`` per batch.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn


class PilDataset(torch.utils.data.Dataset):
    """uint8 ``(N, H, W)`` or ``(N, H, W, 3)`` arrays -> (transformed image, label)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable):
        self.images, self.labels, self.transform = images, np.asarray(labels), transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        from PIL import Image

        img = Image.fromarray(self.images[i])  # mode "L" for (H, W), "RGB" for (H, W, 3)
        return self.transform(img), int(self.labels[i])


def pil_transform(mean: Sequence[float], std: Sequence[float], crop: bool, flip: bool,
                  size: int = 32, padding: int = 4):
    """The torchvision pipeline matching our ``crop`` (zero padding) and ``flip`` augmentations."""
    import torchvision.transforms as T

    ops = []
    if crop:
        ops.append(T.RandomCrop(size, padding=padding))  # pads with black, as ours does
    if flip:
        ops.append(T.RandomHorizontalFlip())
    ops += [T.ToTensor(), T.Normalize(mean, std)]
    return T.Compose(ops)


def make_dataloader(images: np.ndarray, labels: np.ndarray, batch_size: int, transform: Callable,
                    workers: int, device: torch.device, shuffle: bool = True, seed: int = 0,
                    persistent_workers: bool = False) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` as tutorials make it; memory is pinned only when there is a GPU to
    copy to (on a CPU-only machine ``pin_memory=True`` just warns and does nothing)."""
    g = torch.Generator()
    g.manual_seed(seed)
    return torch.utils.data.DataLoader(
        PilDataset(images, labels, transform), batch_size=batch_size, shuffle=shuffle,
        num_workers=workers, pin_memory=device.type == "cuda", generator=g,
        persistent_workers=persistent_workers and workers > 0)


def to_device(x, y, device: torch.device, channels_last: bool = False):
    """Move one DataLoader batch to ``device`` (non-blocking, from pinned memory)."""
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    return (x.contiguous(memory_format=torch.channels_last) if channels_last else x), y


def plain_step(model: nn.Module, opt: torch.optim.Optimizer, loss_fn, x, y, autocast) -> None:
    """The textbook step: forward, loss, zero_grad, backward, update."""
    with autocast():
        out = model(x)
    loss = loss_fn(out.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def iterate_batches(loader, device: torch.device, channels_last: bool = False) -> int:
    """Consume one epoch of ``loader`` onto ``device`` with no model; returns the image count.

    The batches are moved to the device (non-blocking, from pinned memory), because
    that copy is part of what the DataLoader pipeline costs a training loop.
    """
    n = 0
    for x, y in loader:
        x, y = to_device(x, y, device, channels_last)
        n += len(y)
    return n


def plain_torch_epoch(model: nn.Module, loader, opt: torch.optim.Optimizer, loss_fn: nn.Module,
                      device: torch.device, autocast: Optional[Callable] = None,
                      channels_last: bool = False) -> int:
    """One training epoch of the textbook loop; returns the number of images seen.

    ``autocast`` / ``channels_last`` exist only for the optional ``--plain-amp`` variant
    on GPU; the baseline proper is fp32 and contiguous.
    """
    autocast = autocast or contextlib.nullcontext
    model.train()
    n = 0
    for x, y in loader:
        x, y = to_device(x, y, device, channels_last)
        plain_step(model, opt, loss_fn, x, y, autocast)
        n += len(y)
    return n


@torch.no_grad()
def plain_torch_accuracy(model: nn.Module, loader, device: torch.device,
                         autocast: Optional[Callable] = None, channels_last: bool = False) -> float:
    """Test accuracy of the textbook evaluation loop (no test-time augmentation)."""
    autocast = autocast or contextlib.nullcontext
    model.eval()
    correct = total = 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast():
            correct += int((model(x).argmax(1) == y).sum())
        total += len(y)
    return correct / max(1, total)
