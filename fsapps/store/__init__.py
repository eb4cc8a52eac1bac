"""PostgreSQL: the source of truth (DESIGN.md principle 4)."""
