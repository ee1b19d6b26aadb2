"""Operating the deployed stack: replaying the events Lambda gave up on (never shipped)."""
