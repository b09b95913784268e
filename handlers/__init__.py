"""The doors: turn an outside event into rows in the database, nothing more."""
