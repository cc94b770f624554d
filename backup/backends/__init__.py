"""Storage backends: where the repository's files live (local directory, S3, SFTP)."""
