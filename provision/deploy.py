"""The pyinfra deploy file `eyeshots provision` runs: every role, in dependency order."""

from provision.deploys import base

base.apply()
