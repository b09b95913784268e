"""Tables, engine and sessions, the durable job queue, and migrations."""
