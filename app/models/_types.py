"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def enum_column_type(enum_class: type[enum.StrEnum]) -> Any:
    """A StrEnum stored as its value in a VARCHAR (no native enum, no CHECK constraint), so
    adding a value later needs no migration; the application validates on the way in."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
