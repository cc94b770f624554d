"""The Ansible engine's summary line comes from ansible-playbook's own output (the same line the
pyinfra engine prints from its JSON results)."""

from __future__ import annotations

from provision.engines.ansible import _summarise

OUTPUT = """
TASK [base : Install base packages] ********************************************
ok: [vps1]

TASK [managed_files : Files of roles/base] *************************************
changed: [vps1] => (item=Configure NTP servers)
changed: [vps1] => (item=Bound the journal's disk use)
ok: [vps1] => (item=Set the unattended upgrade policy)

TASK [ssh : Run sshd as a service] *********************************************
fatal: [vps1]: FAILED! => {"changed": false, "msg": "Could not find the requested service"}

PLAY RECAP *********************************************************************
vps1                       : ok=12   changed=1    unreachable=0    failed=1    skipped=2
"""


def test_summary_counts_tasks_once_and_names_failures():
    result = _summarise(OUTPUT.splitlines(keepends=True))
    assert result.changed == ["managed_files : Files of roles/base (vps1)"]
    assert result.unchanged == 11
    assert result.errors == ["ssh : Run sshd as a service failed on vps1"]
