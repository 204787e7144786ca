"""The designs the report runs: the lr study, the Sobol designs, the batch-size study,
the alternatives, the range test, the importance analysis and the long budgets."""
