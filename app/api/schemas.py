"""Request bodies, validated by pydantic. Unknown fields are refused (a typo such as
``send_At`` must not be silently ignored); each error names its field."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from app.policy.lifecycle import PlanError, ReminderPlan
from app.services import surveys as survey_rules
from app.validation import normalize_email, normalize_locale, normalize_phone, normalize_timezone
from app.vocabulary import Channel, Role, StaffRole, SurveyStatus

Text255 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalize_email)]
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalize_phone)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(normalize_timezone)]
#: Email templates keep their whitespace (it matters in the text part).
Template = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200_000)
]
LocaleTag = Annotated[str, StringConstraints(max_length=35), AfterValidator(normalize_locale)]

MAX_PROPERTIES_BYTES = 16 * 1024


def _iso_text(value: object) -> object:
    """Times come as ISO 8601 text; a bare number would be read as seconds since 1970."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            "must be an ISO 8601 date and time with a time zone, e.g. 2026-12-01T15:00:00Z"
        )
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def _small(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value)) > MAX_PROPERTIES_BYTES:
        raise ValueError(f"properties must be under {MAX_PROPERTIES_BYTES // 1024} KB")
    return value


#: A person's custom properties: a JSON object of at most MAX_PROPERTIES_BYTES.
Properties = Annotated[dict[str, Any], AfterValidator(_small)]
#: Ids are whole numbers, never true/false or "12".
Id = Annotated[StrictInt, Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccountIn(Strict):
    external_id: Text255 | None = None
    name: Text255 | None = None
    csm: Email | None = None
    """The email of the account's CSM (a staff user), who surveys come from."""

    @model_validator(mode="after")
    def _identified(self) -> AccountIn:
        if not self.external_id and not self.name:
            raise ValueError("external_id: an account needs an external_id or a name")
        return self


class PersonIn(Strict):
    external_id: Text255 | None = None
    email: Email | None = None
    phone: Phone | None = None
    name: Text255 | None = None
    role: Role | None = None
    account: AccountIn | None = None
    timezone: TimeZone | None = None
    locale: LocaleTag | None = None
    properties: Properties | None = None
    signed_up_at: Moment | None = None

    @model_validator(mode="after")
    def _identified(self) -> PersonIn:
        if not self.external_id and not self.email:
            raise ValueError("external_id: a person needs an external_id or an email")
        return self

    def fields(self) -> dict[str, Any]:
        """Only the fields the client sent, so an upsert never blanks what it did not send."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def _plan_check(values: dict[str, Any]) -> None:
    try:
        ReminderPlan(values["reminder_1_days"], values["reminder_2_days"], values["deadline_days"])
    except PlanError as exc:
        raise ValueError(f"{exc.field}: {exc.problem}") from exc


ESCALATION_NEEDS_SMS = f"escalate_to_sms: {survey_rules.ESCALATION_NEEDS_SMS}"


class SurveyIn(Strict):
    name: Text255
    question: LongText | None = None
    follow_up_question: LongText | None = None
    follow_up_promoter: LongText | None = None
    follow_up_passive: LongText | None = None
    follow_up_detractor: LongText | None = None
    channels: list[Channel] = Field(
        default_factory=lambda: [Channel.EMAIL, Channel.SMS, Channel.LINK, Channel.WIDGET],
        min_length=1,
    )
    reminder_1_days: int = Field(3, ge=1, le=89)
    reminder_2_days: int = Field(7, ge=2, le=89)
    deadline_days: int = Field(10, ge=3, le=90)
    escalate_to_sms: bool = False
    email_subject: Template | None = None
    email_html: Template | None = None
    email_text: Template | None = None
    opens_at: Moment | None = None
    closes_at: Moment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SurveyIn:
        _plan_check(self.model_dump())
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at: must be after opens_at")
        if self.escalate_to_sms and Channel.SMS not in self.channels:
            raise ValueError(ESCALATION_NEEDS_SMS)
        return self


class SurveyPatch(Strict):
    name: Text255 | None = None
    question: LongText | None = None
    follow_up_question: LongText | None = None
    follow_up_promoter: LongText | None = None
    follow_up_passive: LongText | None = None
    follow_up_detractor: LongText | None = None
    channels: list[Channel] | None = Field(None, min_length=1)
    reminder_1_days: int | None = Field(None, ge=1, le=89)
    reminder_2_days: int | None = Field(None, ge=2, le=89)
    deadline_days: int | None = Field(None, ge=3, le=90)
    escalate_to_sms: bool | None = None
    email_subject: Template | None = None
    email_html: Template | None = None
    email_text: Template | None = None
    opens_at: Moment | None = None
    closes_at: Moment | None = None
    status: SurveyStatus | None = None


class InvitationIn(Strict):
    survey_id: Id
    person_id: Id | None = None
    person: PersonIn | None = None
    channel: Channel
    sender: Id | Email | None = None
    """A staff user's id or email; defaults to the account's CSM."""
    send_at: Moment | None = None

    @model_validator(mode="after")
    def _one_person(self) -> InvitationIn:
        if (self.person_id is None) == (self.person is None):
            raise ValueError("person_id: give exactly one of person_id or person")
        return self


class StaffIn(Strict):
    email: Email
    name: Text255
    role: StaffRole = StaffRole.CSM
    sender_name: Text255 | None = None
    sender_email: Email | None = None


class CancelIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
