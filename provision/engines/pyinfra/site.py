"""The pyinfra deploy file `eyeshots provision` runs: every role, in site.yml's order."""

from provision.engines.pyinfra.roles import (
    base,
    fail2ban,
    firewall,
    kernel,
    logrotate,
    nginx,
    platform,
    prometheus,
    ssh,
    tls,
)

base.apply()
ssh.apply()
firewall.apply()
tls.bootstrap()
nginx.apply()
tls.obtain()
fail2ban.apply()
# After the firewall and fail2ban: enabling UFW and its routed policy touch forwarding, and a
# change of net.ipv4.ip_forward resets accept_redirects in the kernel.
kernel.apply()
logrotate.apply()
prometheus.apply()
platform.apply()
