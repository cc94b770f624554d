"""The two provisioning engines: pyinfra (the default) and Ansible, over the same roles/."""
