"""Local embedded stack: the whole API on one machine, no cloud account, no Docker."""
