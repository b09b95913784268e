"""Settings (one typed object, loaded once) and logging set-up."""
