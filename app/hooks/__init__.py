"""Provider webhooks under /hooks/ (JSON errors, signed requests, no CSRF)."""
