"""Optimizers by name, with every hyperparameter explicit so it can enter the config hash.

``lr`` is the swept quantity. For the learning-rate-free methods (prodigy, dadapt_adam,
dog) it is a multiplier on the estimated step size whose recommended value is 1.0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    label: str                                   # how figures and tables name it
    description: str
    default_lr: float                            # the library's own default: "not tuning"
    defaults: dict = field(default_factory=dict)
    train_eval_switch: bool = False              # schedule-free: .train()/.eval() around evaluation

    def resolve(self, overrides: dict) -> dict:
        """Defaults updated by ``overrides``; unknown keys and wrong types are refused."""
        unknown = set(overrides) - set(self.defaults)
        if unknown:
            allowed = ", ".join(self.defaults) or "none"
            raise UsageError(f"unknown hyperparameter(s) {', '.join(sorted(unknown))} for "
                             f"{self.name}; allowed: {allowed}")
        out = dict(self.defaults)
        for k, v in overrides.items():
            want = type(self.defaults[k])
            if want is bool and not isinstance(v, bool) or want is not bool and isinstance(v, bool):
                raise UsageError(f"{self.name} {k} must be {want.__name__}, got {v!r}")
            try:
                out[k] = want(v)
            except (TypeError, ValueError):
                raise UsageError(f"{self.name} {k} must be {want.__name__}, got {v!r}") from None
        return out


_ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
OPTIMIZERS: dict[str, OptimizerSpec] = {o.name: o for o in [
    OptimizerSpec("adam", "Adam", "Adam (Kingma & Ba), PyTorch defaults", 1e-3,
                  {**_ADAM, "weight_decay": 0.0}),
    # its own name, not an Adam hyperparameter, so every Adam run id stays as it is
    OptimizerSpec("amsgrad", "AMSGrad", "Adam with AMSGrad's running maximum (Reddi et al.)",
                  1e-3, {**_ADAM, "weight_decay": 0.0}),
    OptimizerSpec("adamw", "AdamW", "AdamW (decoupled weight decay)", 1e-3,
                  {**_ADAM, "weight_decay": 0.01}),
    OptimizerSpec("sgd", "SGD", "plain SGD", 1e-3, {"weight_decay": 0.0}),
    OptimizerSpec("sgd_momentum", "SGD-momentum", "SGD with heavy-ball momentum", 1e-3,
                  {"momentum": 0.9, "nesterov": False, "weight_decay": 0.0}),
    OptimizerSpec("prodigy", "Prodigy", "Prodigy (lr-free; lr multiplies its estimate)", 1.0,
                  {**_ADAM, "weight_decay": 0.0, "d_coef": 1.0}),
    OptimizerSpec("dadapt_adam", "D-Adapt Adam", "D-Adaptation Adam (lr-free; lr multiplies its estimate)",
                  1.0, {**_ADAM, "weight_decay": 0.0}),
    OptimizerSpec("dog", "DoG", "DoG (lr-free; lr multiplies its estimate)", 1.0,
                  {"reps_rel": 1e-6, "weight_decay": 0.0}),
    OptimizerSpec("schedulefree_adamw", "Schedule-Free AdamW", "Schedule-Free AdamW (still has an lr)",
                  2.5e-3, {**_ADAM, "weight_decay": 0.0, "warmup_steps": 0},
                  train_eval_switch=True),
]}


def get(name: str) -> OptimizerSpec:
    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]

