"""Argument checks shared by kgan's layers and network builders."""


def check_positive(**values):
    """Raises `ValueError` naming the first value that is not a positive int."""
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )
