"""The pure core: log excerpt, redaction, fingerprints, rules and rendering; the standard library and pydantic only."""
