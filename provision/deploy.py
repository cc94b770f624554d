"""The pyinfra deploy file `eyeshots provision` runs: every role, in dependency order."""

from provision.deploys import base, fail2ban, firewall, kernel, logrotate, nginx, ssh, tls

base.apply()
kernel.apply()
ssh.apply()
firewall.apply()
tls.bootstrap()
nginx.apply()
tls.obtain()
fail2ban.apply()
logrotate.apply()
