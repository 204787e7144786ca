"""What is on disk: run configs and their records (no torch), where files live, the
optimizer registry and the datasets' identities."""
