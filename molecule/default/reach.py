"""How to reach a running sandbox machine, as JSON for create.yml: its entry for molecule's
instance_config.yml (root and the operator's key, as `eyeshots sandbox up` set it up) and the
host keys recorded when it booted (known_hosts lines)."""

import json
import sys

from provision.sandbox.machine import require
from provision.sshkeys import operator_key

machine = require(sys.argv[1])
instance = {
    "instance": machine.name,
    "address": machine.address,
    "user": "root",
    "port": 22,
    "identity_file": str(operator_key().private),
}
print(json.dumps({"instance": instance, "known_hosts": machine.known_hosts.read_text()}))
