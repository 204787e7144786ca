"""Batched image augmentation on in-memory tensors (no per-image PIL round trip).

DeepOBS's CIFAR-10 pipeline: pad to 36 and random-crop 32, horizontal flip, brightness
(+-63/255), saturation (x0.5..1.5), contrast (x0.2..1.8), then per-image standardisation.
Saturation blends with the per-pixel grey level, a close stand-in for TF's HSV version.
"""
from __future__ import annotations

import torch


def per_image_standardize(x: torch.Tensor) -> torch.Tensor:
    """tf.image.per_image_standardization: zero mean, unit variance per image."""
    flat = x.flatten(1)
    std = flat.std(dim=1, unbiased=False).clamp_min(1.0 / flat.shape[1] ** 0.5)
    return ((flat - flat.mean(dim=1, keepdim=True)) / std[:, None]).view_as(x)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return (lo + (hi - lo) * torch.rand(n, generator=g)).to(like).view(n, 1, 1, 1)


def random_crop(x: torch.Tensor, g: torch.Generator, pad: int) -> torch.Tensor:
    """Zero-pad by ``pad`` and cut a random window of the original size from each image."""
    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=g).to(x.device)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=g).to(x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]   # n,1,h,1
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]   # n,1,1,w
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]


def random_flip(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    flip = (torch.rand(len(x), generator=g) < 0.5).to(x.device).view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(3), x)


def colour_jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = len(x)
    x = x + _uniform(n, -63 / 255, 63 / 255, g, x)
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * _uniform(n, 0.5, 1.5, g, x)
    mean = x.mean(dim=(2, 3), keepdim=True)
    return mean + (x - mean) * _uniform(n, 0.2, 1.8, g, x)


def cifar_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return colour_jitter(random_flip(random_crop(x, g, pad=2), g), g)
