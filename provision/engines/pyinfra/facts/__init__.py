"""pyinfra facts pyinfra itself lacks."""
