"""The cadence rules form: one field per rule, each with its plain-language meaning. Blank
means the default (workspace) or the workspace's value (a survey's override); the rules
themselves are checked by :mod:`app.policy.rules`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import Optional

from app.policy.quiet_hours import describe_weekdays
from app.policy.rules import WEEKDAY_NAMES
from app.workspace.forms import blank_to_none


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    label: str
    meaning: str


RULES = (
    Rule(
        "recontact_days",
        "Recontact period (days)",
        "Nobody gets a survey of any kind within this many days of their last one.",
    ),
    Rule(
        "recurrence_days",
        "Recurrence (days)",
        "The same survey goes to a person at most once in this many days.",
    ),
    Rule(
        "min_tenure_days",
        "Minimum tenure (days)",
        "New users are not asked until this many days after they signed up.",
    ),
    Rule(
        "yearly_cap",
        "Yearly cap (surveys)",
        "At most this many surveys per person in any 365 days.",
    ),
    Rule(
        "account_cap",
        "Account cap (people)",
        "At most this many people of one customer account asked per period; blank: no cap.",
    ),
    Rule(
        "account_cap_window_days",
        "Account cap period (days)",
        "The period the account cap counts over.",
    ),
    Rule(
        "send_window_start",
        "Send window opens (local time)",
        "Email and SMS go out from this time in the person's own time zone.",
    ),
    Rule(
        "send_window_end",
        "Send window closes (local time)",
        "…and until this time (a message due later waits for the next window).",
    ),
    Rule(
        "send_weekdays",
        "Send days",
        "The person's local weekdays on which email and SMS may go out.",
    ),
    Rule(
        "dismissal_backoff_days",
        "Widget dismissal backoff (days)",
        "After someone closes the in-app widget, it stays away this many days.",
    ),
    Rule(
        "default_timezone",
        "Default time zone",
        "Used for the send window of people whose time zone is unknown.",
    ),
)
DAY_CHOICES = {name: name.title() for name in WEEKDAY_NAMES}


class ChecksField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CadenceForm(FlaskForm):
    recontact_days = IntegerField(validators=[Optional()])
    recurrence_days = IntegerField(validators=[Optional()])
    min_tenure_days = IntegerField(validators=[Optional()])
    yearly_cap = IntegerField(validators=[Optional()])
    account_cap = IntegerField(validators=[Optional()])
    account_cap_window_days = IntegerField(validators=[Optional()])
    send_window_start = StringField(filters=[blank_to_none])
    send_window_end = StringField(filters=[blank_to_none])
    send_weekdays = ChecksField(choices=DAY_CHOICES)
    dismissal_backoff_days = IntegerField(validators=[Optional()])
    default_timezone = StringField(filters=[blank_to_none])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for rule in RULES:
            self[rule.name].label.text = rule.label

    def rules_data(self) -> dict[str, Any]:
        """The rules that were filled in (``from_mapping`` form)."""
        data = {}
        for rule in RULES:
            value = self[rule.name].data
            if value in (None, []):
                continue
            data[rule.name] = value
        return data


def initial(values: dict[str, Any]) -> dict[str, Any]:
    """Stored rules (``to_dict`` form) as the form shows them."""
    shown = dict(values)
    if "send_weekdays" in shown:
        shown["send_weekdays"] = [WEEKDAY_NAMES[d] for d in shown["send_weekdays"]]
    return shown


def show_rule(value: Any) -> str:
    """A rule's value as people read it."""
    if value is None:
        return "none (no cap)"
    if isinstance(value, list):
        return describe_weekdays(frozenset(value))
    return str(value)
