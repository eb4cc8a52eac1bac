"""The HTTP API (``/api/v1``): every person in the call center acts through it."""
