"""Outgoing mail: compose from templates, queue in the database, send over SMTP with retries."""
