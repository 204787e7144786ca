"""The engine's speed, measured: against the tutorial loop and the machine's peak."""
