"""Queue job kinds, one module each (KIND, payload, run); registry.py lists them."""
