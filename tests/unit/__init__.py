"""Pure core with recorded inputs: no network, no database, no server."""
