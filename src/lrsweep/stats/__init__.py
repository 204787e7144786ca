"""Statistics over tidy tables of runs and DeepOBS's curves: no torch, no training."""
