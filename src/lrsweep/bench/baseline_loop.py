"""The reference we measure the engine against: training the way a typical tutorial does.

A ``torch.utils.data.DataLoader`` over a per-image dataset that converts every image
through PIL and a per-sample transform (to tensor and normalise; random crop and flip for
CIFAR-10, as torchvision tutorials do), the problem's batch size, one process, default threads, test accuracy
after every epoch, each batch moved to the GPU when there is one.
Same networks, losses and optimizers as the engine. Run one lr as a whole process:

    python -m lrsweep.bench.baseline_loop --problem mnist_mlp --optimizer adam --lr 0.001 --epochs 1
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch.utils.data import DataLoader, Dataset

from ..store import datasets
from ..engine import augment, data, optimizers, problems


class PILImages(Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor, train: bool, cifar: bool):
        # uint8 HWC arrays, as an image folder or torchvision dataset would hold them
        self.x = (x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).squeeze(-1).numpy()
        self.y, self.train, self.cifar = y.tolist(), train, cifar

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = Image.fromarray(self.x[i])
        if self.train and self.cifar:
            img = ImageOps.expand(img, border=2)
            dx, dy = np.random.randint(0, 5, 2)
            img = img.crop((dx, dy, dx + 32, dy + 32))
            if np.random.rand() < 0.5:
                img = ImageOps.mirror(img)
        t = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
        t = t.permute(2, 0, 1) if t.dim() == 3 else t[None]
        if self.cifar:
            t = augment.per_image_standardize(t[None])[0]
        else:  # transforms.Normalize((0.1307,), (0.3081,)), as in PyTorch's MNIST example
            t = (t - 0.1307) / 0.3081
        return t, self.y[i]


def loader(problem: problems.Problem, split: tuple, train: bool, batches: int | None = None):
    x, y, bs = *split, problem.batch_size
    if batches is not None:
        x, y = x[: batches * bs], y[: batches * bs]
    ds = PILImages(x, y, train, cifar=datasets.get(problem.dataset).image_shape[0] == 3)
    return DataLoader(ds, batch_size=bs, shuffle=train, drop_last=train)


def train_epoch(model, opt, problem, batches) -> int:
    """One pass over the loader; returns the number of examples trained on."""
    n = 0
    device = next(model.parameters()).device
    model.train()
    for xb, yb in batches:
        xb, yb = xb.to(device), yb.to(device)  # as tutorials do, batch by batch
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb) + problem.regularizer(model)
        loss.backward()
        opt.step()
        n += len(yb)
    return n


@torch.no_grad()
def test_accuracy(model, batches) -> float:
    model.eval()
    correct = total = 0
    device = next(model.parameters()).device
    for xb, yb in batches:
        xb, yb = xb.to(device), yb.to(device)
        correct += (model(xb).argmax(1) == yb).sum().item()
        total += len(yb)
    return correct / total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", required=True)
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    problem = problems.get(args.problem)
    splits = data.load(problem.dataset)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # the usual tutorial line
    model = problem.build(torch.Generator().manual_seed(0)).to(device)
    opt = optimizers.build(args.optimizer, model.parameters(), args.lr, {})
    train_batches, test_batches = loader(problem, splits.train, True), loader(problem, splits.test, False)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        train_epoch(model, opt, problem, train_batches)
        print(f"epoch {epoch}: test accuracy {test_accuracy(model, test_batches):.4f}")
    print(f"{time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
