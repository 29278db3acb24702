"""The survey form and the plan preview's form. Types only: the rules are the API's
(:class:`app.api.schemas.SurveyIn`, :mod:`app.services.surveys`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.validators import InputRequired, Optional

from app.vocabulary import Channel
from app.workspace.forms import blank_to_none

CHANNEL_LABELS = {
    Channel.EMAIL: "Email (from the CSM)",
    Channel.SMS: "SMS",
    Channel.LINK: "Signed link",
    Channel.WIDGET: "In-app widget",
}
ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
#: The form's fields that are the survey's own (same names as ``SurveyIn``).
SURVEY_FIELDS = (
    "name",
    "question",
    "follow_up_question",
    "follow_up_promoter",
    "follow_up_passive",
    "follow_up_detractor",
    "channels",
    "reminder_1_days",
    "reminder_2_days",
    "deadline_days",
    "escalate_to_sms",
    "opens_at",
    "closes_at",
)


class ChecksField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


class SurveyForm(FlaskForm):
    name = StringField("Name", filters=[blank_to_none], description="Only staff see it.")
    question = TextAreaField(
        "Question",
        filters=[blank_to_none],
        description="Empty: “How likely are you to recommend … to a friend or colleague?”",
    )
    follow_up_question = TextAreaField("Follow-up question", filters=[blank_to_none])
    follow_up_promoter = TextAreaField("Follow-up for promoters (9 to 10)", filters=[blank_to_none])
    follow_up_passive = TextAreaField("Follow-up for passives (7 to 8)", filters=[blank_to_none])
    follow_up_detractor = TextAreaField(
        "Follow-up for detractors (0 to 6)", filters=[blank_to_none]
    )
    channels = ChecksField(
        "Channels", choices={c.value: label for c, label in CHANNEL_LABELS.items()}
    )
    reminder_1_days = IntegerField("Reminder 1, days after the first message", [InputRequired()])
    reminder_2_days = IntegerField("Reminder 2, days after the first message", [InputRequired()])
    deadline_days = IntegerField("Deadline, days after the first message", [InputRequired()])
    escalate_to_sms = BooleanField("Send reminder 2 by SMS to people with a mobile number")
    opens_at = DateTimeLocalField("Opens (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField("Closes (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")

    def survey_data(self, change: bool = False) -> dict[str, Any]:
        """The fields as the API takes them (times in UTC; empty texts left out, except the
        name of a ``change``, which the rules then refuse, and the dates, which empty)."""
        kept = ("opens_at", "closes_at", "name") if change else ("opens_at", "closes_at")
        data: dict[str, Any] = {}
        for name in SURVEY_FIELDS:
            value = getattr(self, name).data
            if name in ("opens_at", "closes_at"):
                value = _utc(value)
            if value is None and name not in kept:
                continue
            data[name] = value
        return data


class PreviewForm(FlaskForm):
    """The sample person of the plan preview (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    timezone = SelectField("Time zone", choices={z: z.replace("_", " ") for z in ZONES})
    day = DateField("Asked on", [Optional()])
    time = TimeField("at (their local time)", [Optional()])
    channel = SelectField(
        "Channel", choices={c.value: CHANNEL_LABELS[c] for c in (Channel.EMAIL, Channel.SMS)}
    )
