"""The one exception type for bad input: the CLI prints its message on one line and exits 2."""


class UsageError(ValueError):
    """Bad input or missing data, reported before any work starts. The message says what
    was wrong and what is allowed."""
