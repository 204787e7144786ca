"""lrsweep: learning-rate sweeps for the Adam learning-rate report."""
from .errors import UsageError
from .sweep import SweepSpec, run_sweep

__all__ = ["SweepSpec", "UsageError", "run_sweep"]
