import ipaddress
import os
import sys
from pathlib import Path

# tests/ helpers (eyeshots_cli) import as top-level modules under --import-mode=importlib
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _separate_parallel_workers() -> None:
    """Under pytest-xdist each worker boots its sandbox machines with its own name prefix and
    its own /24, so host tests in two workers never share a machine, bridge or NAT rule."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    index = int(worker[2:])
    base = ipaddress.ip_network(os.environ.get("EYESHOTS_TEST_SUBNET", "10.213.99.0/24"))
    os.environ["EYESHOTS_TEST_SUBNET"] = str(
        ipaddress.ip_network((int(base.network_address) + 256 * index, 24))
    )
    os.environ["EYESHOTS_TEST_PREFIX"] = os.environ.get("EYESHOTS_TEST_PREFIX", "") + "pqrs"[index]


_separate_parallel_workers()
