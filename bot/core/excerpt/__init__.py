"""The failure excerpt; import from the modules: read (entry points), rules (line scores), clean, scan, selection."""
