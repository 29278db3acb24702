"""Staff pages (filled below)."""
