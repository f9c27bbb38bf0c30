import math

import numpy as np
import pytest
import torch

from cnnreport.core.augment import AUGMENTATIONS, RandomCrop, RandomErasing, build_augmentations
from cnnreport.core.loader import DeviceLoader

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def _images(n=64, h=12, w=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8), rng.integers(0, 10, n)


def test_no_augmentation_equals_normalized_originals():
    x, y = _images()
    ld = DeviceLoader(x, y, 16, mean=MEAN, std=STD, shuffle=False)
    xb, yb = next(iter(ld))
    ref = (torch.tensor(x[:16]).permute(0, 3, 1, 2).float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) \
        / torch.tensor(STD).view(1, 3, 1, 1)
    assert torch.allclose(xb, ref, atol=1e-6) and torch.equal(yb, torch.tensor(y[:16]))


def test_len_drop_last_and_coverage():
    x, y = _images(50)
    assert len(DeviceLoader(x, y, 16, mean=MEAN, std=STD)) == 4
    assert len(DeviceLoader(x, y, 16, mean=MEAN, std=STD, drop_last=True)) == 3
    seen = torch.cat([yb for _, yb in DeviceLoader(x, np.arange(50), 16, mean=MEAN, std=STD)])
    assert sorted(seen.tolist()) == list(range(50))


def test_seeded_and_reshuffled_per_epoch():
    x, y = _images()
    a = DeviceLoader(x, np.arange(64), 8, mean=MEAN, std=STD, augment=["crop", "flip"], seed=5)
    b = DeviceLoader(x, np.arange(64), 8, mean=MEAN, std=STD, augment=["crop", "flip"], seed=5)
    e0a, e0b = list(a), list(b)
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(e0a, e0b))
    e1a = list(a)
    assert not torch.equal(e0a[0][1], e1a[0][1])  # a new order in epoch 1
    a.set_epoch(0)
    assert torch.equal(list(a)[0][0], e0a[0][0])  # epoch 0 replays exactly


def test_labels_stay_aligned_with_images():
    # Each image is filled with its own label value, so misalignment is visible.
    n = 40
    labels = np.arange(n) % 10
    x = np.broadcast_to((labels * 20).astype(np.uint8)[:, None, None, None], (n, 8, 8, 3)).copy()
    ld = DeviceLoader(x, labels, 7, mean=(0, 0, 0), std=(1, 1, 1), augment=["flip"], seed=1)
    for xb, yb in ld:
        assert torch.allclose(xb[:, :, 4, 4], (yb * 20).float()[:, None].expand(-1, 3) / 255, atol=1e-6)


def test_crop_offsets_cover_exactly_allowed_range():
    # A single bright pixel at the centre shows the crop offset of each sample.
    B, H, p = 4000, 16, 4
    x = torch.zeros(B, 1, H, H)
    x[:, :, 8, 8] = 1.0
    g = torch.Generator().manual_seed(0)
    out = RandomCrop(p)(x, g)
    pos = out.view(B, -1).argmax(1)
    dy, dx = pos // H - 8, pos % H - 8
    assert set(dy.tolist()) == set(range(-p, p + 1)) and set(dx.tolist()) == set(range(-p, p + 1))
    assert torch.all(out.sum((1, 2, 3)) == 1)  # never cropped away at this size


def test_flip_rate_about_half():
    x = torch.arange(8.0).view(1, 1, 1, 8).expand(4000, 1, 1, 8)
    out = AUGMENTATIONS.build("flip")(x, torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0, 0] == 7).float().mean().item()
    assert abs(flipped - 0.5) < 0.03
    assert torch.all((out[:, 0, 0, 0] == 7) | (out[:, 0, 0, 0] == 0))


def test_erasing_area_within_bounds():
    B, H, W = 3000, 32, 32
    er = RandomErasing(p=1.0, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=-5.0)
    out = er(torch.zeros(B, 3, H, W), torch.Generator().manual_seed(0))
    area = (out[:, 0] == -5.0).float().sum((1, 2)) / (H * W)
    erased = area > 0
    assert erased.float().mean() > 0.95  # almost always one of 10 tries fits
    # Rounding h and w can stretch the area a little past the drawn fraction.
    assert area[erased].min() >= 0.02 * 0.5 and area[erased].max() <= 0.33 * 1.25
    assert torch.equal(out[:, 0], out[:, 2])  # same rectangle on every channel
    none = RandomErasing(p=0.0)(torch.zeros(10, 3, H, W), torch.Generator().manual_seed(0))
    assert torch.all(none == 0)


def test_rotate_and_translate_zero_are_identity():
    x = torch.rand(8, 1, 28, 28)
    g = torch.Generator().manual_seed(0)
    assert torch.allclose(AUGMENTATIONS.build("rotate", degrees=0, p=1.0)(x, g), x, atol=1e-5)
    assert torch.allclose(AUGMENTATIONS.build("translate", fraction=0, p=1.0)(x, g), x, atol=1e-5)
    moved = AUGMENTATIONS.build("translate", fraction=0.1, p=1.0)(x, g)
    assert not torch.allclose(moved, x)


def test_bad_specs_are_clear():
    with pytest.raises(KeyError, match="allowed"):
        build_augmentations(["cropp"])
    with pytest.raises(ValueError, match="padding"):
        build_augmentations([{"name": "crop", "padding": -1}])
    with pytest.raises(ValueError, match="bad arguments"):
        build_augmentations([{"name": "flip", "prob": 0.5}])


def test_channels_last_and_gray():
    x = np.zeros((10, 28, 28), np.uint8)
    ld = DeviceLoader(x, np.zeros(10), 4, mean=(0.1,), std=(0.3,), channels_last=True)
    xb, _ = next(iter(ld))
    assert xb.shape == (4, 1, 28, 28) and xb.is_contiguous(memory_format=torch.channels_last)
