"""Provider webhooks under ``/hooks/``: verified, JSON errors, CSRF-exempt."""
