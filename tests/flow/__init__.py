"""Jobs and doors against in-process fakes and fake servers on loopback, on SQLite and PostgreSQL."""
