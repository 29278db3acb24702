"""The bodies the widget posts (widget/README.md, "Endpoints it calls"), validated like the
API's: unknown fields refused, each error naming its field (``user.email``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints, field_validator, model_validator

from app.api.campaigns import EVENT_NAME, EventName
from app.api.schemas import Email, Moment, Properties, Strict, Text255
from app.vocabulary import Role

#: Checked before the model (see views._user_id): the HMAC is of the id exactly as sent.
UserId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Credential = Annotated[str, StringConstraints(max_length=200)]
DisplayId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AccountIn(Strict):
    id: Text255 | None = None
    name: Text255 | None = None

    @model_validator(mode="after")
    def _identified(self) -> AccountIn:
        if not self.id and not self.name:
            raise ValueError("an account needs an id or a name")
        return self


class WidgetUser(Strict):
    """The user as the widget sends it (its own camelCase spelling)."""

    userId: UserId
    email: Email | None = None
    name: Text255 | None = None
    role: Role | None = None
    account: AccountIn | None = None
    properties: Properties | None = None
    signedUpAt: Moment | None = None


class CheckIn(Strict):
    key: Credential
    user: WidgetUser
    signature: Credential


class Signed(Strict):
    key: Credential
    userId: UserId
    signature: Credential


class EventIn(Signed):
    name: EventName

    @field_validator("name")
    @classmethod
    def _event_name(cls, value: str) -> str:
        if not EVENT_NAME.match(value):
            raise ValueError("letters, digits and _ . : - only, like 'exported_report'")
        return value


class DismissalIn(Signed):
    display_id: DisplayId


class ResponseIn(Signed):
    display_id: DisplayId
    response_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    score: Annotated[StrictInt, Field(ge=0, le=10)]
    comment: str | None = None

    @field_validator("response_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("a UUID made by the widget") from None
