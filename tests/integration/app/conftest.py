from app_support.database import engine, migrated_url, postgres_admin_url  # noqa: F401
