"""Training: data as tensors, the test problems, optimizers, the training loops, the
executors that run them and the sweep that stores what they return."""
