"""The test problems as facts: dataset, network, batch size, regularisation, augmentation.
No torch: the book and the statistics read these; the engine builds the networks from them
(``engine.problems``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class ProblemSpec:
    name: str
    dataset: str
    network: str                        # logreg, mlp, 2c2d, 3c3d: engine.problems builds it
    description: str
    params: int                         # trainable parameters, as DeepOBS publishes them
    batch_size: int = 128
    l2: float = 0.0                     # DeepOBS L2: l2 * sum(w**2) / 2 over weights, not biases
    augmented: bool = False             # random crops, flips and colour jitter (CIFAR-10)
    standardize: bool = False           # per-image standardisation of every batch


# Parameter counts published with DeepOBS (Schneider et al. 2019); tests/test_problems.py
# checks each network the engine builds against them.
_PARAMS = {"logreg": 7_850, "mlp": 1_336_610, "2c2d": 3_274_634, "3c3d": 895_210}


def _family(prefix: str, dataset: str, label: str) -> list[ProblemSpec]:
    return [
        ProblemSpec(f"{prefix}_logreg", dataset, "logreg", f"{label}, logistic regression (zero init)", _PARAMS["logreg"]),
        ProblemSpec(f"{prefix}_mlp", dataset, "mlp", f"{label}, MLP 1000-500-100 ReLU", _PARAMS["mlp"]),
        ProblemSpec(f"{prefix}_2c2d", dataset, "2c2d", f"{label}, 2 conv + 2 dense layers", _PARAMS["2c2d"]),
    ]


PROBLEMS: dict[str, ProblemSpec] = {p.name: p for p in [
    *_family("mnist", "mnist", "MNIST"),
    *_family("fmnist", "fashion_mnist", "Fashion-MNIST"),
    ProblemSpec("cifar10_3c3d", "cifar10_jpeg", "3c3d",
                "CIFAR-10 (JPEG copy), 3 conv + 3 dense layers, L2 0.002, augmented", _PARAMS["3c3d"],
                l2=0.002, augmented=True, standardize=True),
    ProblemSpec("cifar10_3c3d_official", "cifar10", "3c3d",
                "CIFAR-10 (official python release), 3 conv + 3 dense layers, L2 0.002, augmented",
                _PARAMS["3c3d"], l2=0.002, augmented=True, standardize=True),
]}


def get(name: str) -> ProblemSpec:
    if name not in PROBLEMS:
        raise UsageError(f"unknown problem {name!r}; allowed: {', '.join(PROBLEMS)}")
    return PROBLEMS[name]
