"""The one error type the operator sees: a single line saying what is wrong and how to fix it."""


class OperatorError(Exception):
    """An expected failure; the CLI prints its message on one line and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
