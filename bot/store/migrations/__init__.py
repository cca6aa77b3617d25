"""Schema migrations (Alembic). See docs/migrations.md for how to add one."""
