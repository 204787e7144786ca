"""The optimizers of the registry (``store.optim``) as torch objects: one builder per name."""
from __future__ import annotations

import torch

from ..store import optim


def _adam(params, lr, beta1, beta2, eps, weight_decay):
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)


def _amsgrad(params, lr, beta1, beta2, eps, weight_decay):
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                            amsgrad=True)


def _adamw(params, lr, beta1, beta2, eps, weight_decay):
    return torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)


def _sgd(params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov,
                           weight_decay=weight_decay)


def _prodigy(params, lr, beta1, beta2, eps, weight_decay, d_coef):
    from prodigyopt import Prodigy
    return Prodigy(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                   d_coef=d_coef)


def _dadapt_adam(params, lr, beta1, beta2, eps, weight_decay):
    from dadaptation import DAdaptAdam
    return DAdaptAdam(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)


def _dog(params, lr, reps_rel, weight_decay):
    from dog import DoG
    return DoG(params, lr=lr, reps_rel=reps_rel, weight_decay=weight_decay)


def _schedulefree_adamw(params, lr, beta1, beta2, eps, weight_decay, warmup_steps):
    from schedulefree import AdamWScheduleFree
    return AdamWScheduleFree(params, lr=lr, betas=(beta1, beta2), eps=eps,
                             weight_decay=weight_decay, warmup_steps=warmup_steps)


BUILDERS = {"adam": _adam, "amsgrad": _amsgrad, "adamw": _adamw, "sgd": _sgd, "sgd_momentum": _sgd,
            "prodigy": _prodigy, "dadapt_adam": _dadapt_adam, "dog": _dog,
            "schedulefree_adamw": _schedulefree_adamw}


def build(name: str, params, lr: float, hparams: dict) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params``, its registry defaults updated by ``hparams``."""
    spec = optim.get(name)
    return BUILDERS[name](params, lr, **spec.resolve(hparams))
