"""roles/logrotate: nginx's and the platform's logs rotate on the configured schedule."""

from __future__ import annotations


def test_rotation_policies(host, v):
    for name in ("nginx", "eyeshots"):
        conf = host.file(f"/etc/logrotate.d/{name}").content_string
        assert v["logrotate_frequency"] in conf and f"rotate {v['logrotate_keep']}" in conf
        assert "compress" in conf
    assert host.run("logrotate --debug /etc/logrotate.conf").rc == 0
    assert host.service("logrotate.timer").is_enabled
