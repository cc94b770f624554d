"""`eyeshots backup ...`: the operator's and the timer's interface to the backup engine.

One module per command group registers its commands on the `cli` group of `base`.
"""

from backup.cli import browse, job, keys, maintenance  # noqa: F401 - they register commands
from backup.cli.base import cli

__all__ = ["cli"]
