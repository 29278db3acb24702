"""Pure policy: plain values in, plain decisions out. No database, queue or HTTP here."""
