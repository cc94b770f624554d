"""The file service: a separate ASGI process for streaming and resumable uploads and for
authorized downloads that nginx sends (X-Accel-Redirect)."""
