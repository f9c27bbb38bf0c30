"""Report 004's data augmentation, in NumPy.

The report used albumentations::

    A.Rotate(limit=10, p=0.5)
    A.ShiftScaleRotate(shift_limit=0.1, scale_limit=0, rotate_limit=0, p=0.5)

and appended one augmented copy of every training image to the training set.  Here
each image independently gets, with probability 0.5, a rotation by an angle drawn
uniformly from [-10, 10] degrees about the image centre, and, with probability 0.5, a
shift by (dx, dy) drawn uniformly from [-10%, 10%] of the width/height.  Both are
folded into one affine map, and the output is produced by *inverse mapping*: for every
output pixel we compute where it came from in the input and sample there bilinearly,
which leaves no holes.  Pixels that map outside the input read 0 (black).  The
albumentations default is reflect-101 borders; for MNIST, whose digits sit inside a
blank 4-pixel margin and shift by at most 2.8 pixels, this reads the same black pixels.

Everything is vectorized over the batch (chunked to bound memory), in float32.
"""
from __future__ import annotations

from typing import Tuple, Union

import numpy as np

RngLike = Union[None, int, np.random.Generator]


def affine_params(n: int, rng: np.random.Generator, max_rotation: float = 10.0,
                  max_shift: float = 0.1, p_rotate: float = 0.5, p_shift: float = 0.5):
    """Per-image (angle in degrees, shift x, shift y as fractions of the size)."""
    rotate = rng.random(n) < p_rotate
    angle = np.where(rotate, rng.uniform(-max_rotation, max_rotation, n), 0.0)
    shift = rng.random(n) < p_shift
    tx = np.where(shift, rng.uniform(-max_shift, max_shift, n), 0.0)
    ty = np.where(shift, rng.uniform(-max_shift, max_shift, n), 0.0)
    return angle, tx, ty


def warp_affine(images: np.ndarray, angle: np.ndarray, tx: np.ndarray,
                ty: np.ndarray) -> np.ndarray:
    """Rotate each (H, W) image by ``angle`` degrees about its centre, then shift it by
    (tx*W, ty*H) pixels; bilinear sampling, zero fill.  images: (M, H, W).  Returns
    float32 (M, H, W).  Zero angle and shift reproduce the input exactly, because the
    sample positions are then exact integers (weights exactly 1 and 0)."""
    M, H, W = images.shape
    f32 = np.float32
    theta = np.deg2rad(np.asarray(angle, np.float64))[:, None, None]  # (M, 1, 1)
    c, s = np.cos(theta).astype(f32), np.sin(theta).astype(f32)
    ys, xs = np.mgrid[0:H, 0:W].astype(f32)  # (H, W)
    # Inverse map: undo the shift, then rotate by -angle about the centre.
    u = xs - f32((W - 1) / 2) - (np.asarray(tx) * W).astype(f32)[:, None, None]  # (M, H, W)
    v = ys - f32((H - 1) / 2) - (np.asarray(ty) * H).astype(f32)[:, None, None]
    sx = c * u + s * v + f32((W - 1) / 2)
    sy = c * v - s * u + f32((H - 1) / 2)
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0, sy - y0  # bilinear weights of the right/lower neighbours
    # A 1-pixel zero border lets every out-of-image neighbour be clipped onto a zero,
    # so no validity mask is needed: indices are clipped to [-1, size] then shifted by 1.
    Hp, Wp = H + 2, W + 2
    padded = np.zeros((M, Hp, Wp), f32)
    padded[:, 1:-1, 1:-1] = images
    flat = padded.reshape(-1)
    base = (np.arange(M) * (Hp * Wp))[:, None, None]  # (M, 1, 1)
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    cols = [np.clip(x0 + d, -1, W) + 1 for d in (0, 1)]
    rows = [base + (np.clip(y0 + d, -1, H) + 1) * Wp for d in (0, 1)]
    top = np.take(flat, rows[0] + cols[0]) * (1 - fx) + np.take(flat, rows[0] + cols[1]) * fx
    bot = np.take(flat, rows[1] + cols[0]) * (1 - fx) + np.take(flat, rows[1] + cols[1]) * fx
    return top * (1 - fy) + bot * fy


def augment_images(x: np.ndarray, seed: RngLike = None, max_rotation: float = 10.0,
                   max_shift: float = 0.1, p_rotate: float = 0.5, p_shift: float = 0.5,
                   chunk: int = 4096) -> np.ndarray:
    """One randomly rotated/shifted copy of every image.

    x: (N, H, W) or (N, C, H, W), any dtype; the same transform is applied to all
    channels of an image.  The result has x's shape and dtype (integer images are
    rounded and clipped back to their range).
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected (N, H, W) or (N, C, H, W) images, got {x.shape}")
    N, H, W = x.shape[0], x.shape[-2], x.shape[-1]
    C = x.shape[1] if x.ndim == 4 else 1
    angle, tx, ty = affine_params(N, rng, max_rotation, max_shift, p_rotate, p_shift)
    out = x.copy()
    moved = np.flatnonzero((angle != 0) | (tx != 0) | (ty != 0))  # others stay as they are
    for start in range(0, len(moved), chunk):
        sel = moved[start:start + chunk]
        imgs = x[sel].reshape(len(sel) * C, H, W)  # channels ride along as extra images
        rep = lambda a: np.repeat(a[sel], C)
        warped = warp_affine(imgs, rep(angle), rep(tx), rep(ty)).reshape(x[sel].shape)
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            warped = np.clip(np.rint(warped), info.min, info.max)
        out[sel] = warped.astype(x.dtype)
    return out


def augment_dataset(x: np.ndarray, y: np.ndarray, seed: RngLike = None,
                    **kwargs) -> Tuple[np.ndarray, np.ndarray]:
    """Return the set with one augmented copy of every image appended: 2N images, the
    originals first, labels repeated.  Apply it to the *training* split only, after
    the validation split has been taken, so validation images stay untouched."""
    x_aug = augment_images(x, seed=seed, **kwargs)
    return np.concatenate([x, x_aug]), np.concatenate([y, y])
