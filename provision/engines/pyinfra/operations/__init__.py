"""pyinfra operations pyinfra itself lacks: validated config files, UFW."""
