"""How to reach a running sandbox machine, as JSON for create.yml: address, the operator's key,
and the host keys recorded when it booted (known_hosts lines)."""

import json
import sys

from provision.sandbox.machine import require
from provision.sshkeys import operator_key

machine = require(sys.argv[1])
print(
    json.dumps(
        {
            "address": machine.address,
            "identity_file": str(operator_key().private),
            "known_hosts": machine.known_hosts.read_text(),
        }
    )
)
