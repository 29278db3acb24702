"""Mechanism: the operations the API, pages, jobs and CLI share. They read and write the
database and enqueue work after commit; the decisions themselves live in :mod:`app.policy`."""
