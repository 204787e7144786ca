"""lrsweep: learning-rate sweeps for the Adam learning-rate report.

``SweepSpec`` and ``run_sweep`` load lazily, so reading results (``lrsweep.store.records``,
``lrsweep.stats.analysis``) never imports torch.
"""
from .errors import UsageError

__all__ = ["SweepSpec", "UsageError", "run_sweep"]


def __getattr__(name: str):
    if name in ("SweepSpec", "run_sweep"):
        from .engine import sweep
        return getattr(sweep, name)
    raise AttributeError(f"module 'lrsweep' has no attribute {name!r}")
