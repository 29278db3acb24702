"""Cadence rules: defaults, validation (errors name the field), overrides, JSON round trip."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from app.policy.rules import MAX_DAYS, CadenceOverrides, CadenceRules, InvalidRuleError


def test_defaults_are_the_issues():
    rules = CadenceRules()
    assert rules.recontact_days == 30
    assert rules.recurrence_days == 90
    assert rules.min_tenure_days == 14
    assert rules.yearly_cap == 4
    assert rules.account_cap is None
    assert rules.account_cap_window_days == 7
    assert rules.send_window_start == time(9, 0)
    assert rules.send_window_end == time(17, 0)
    assert rules.send_weekdays == frozenset({0, 1, 2, 3, 4})
    assert rules.dismissal_backoff_days == 7
    assert rules.default_timezone == "UTC"


def test_rules_are_frozen_and_hashable():
    rules = CadenceRules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.recontact_days = 1  # type: ignore[misc]
    assert hash(rules) == hash(CadenceRules())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recontact_days": -1}, "recontact_days"),
        ({"recurrence_days": -5}, "recurrence_days"),
        ({"min_tenure_days": -1}, "min_tenure_days"),
        ({"dismissal_backoff_days": -1}, "dismissal_backoff_days"),
        ({"recontact_days": MAX_DAYS + 1}, "recontact_days"),
        ({"recontact_days": 1.5}, "recontact_days"),
        ({"recontact_days": "30"}, "recontact_days"),
        ({"recontact_days": True}, "recontact_days"),
        ({"yearly_cap": 0}, "yearly_cap"),
        ({"account_cap": 0}, "account_cap"),
        ({"account_cap": -3}, "account_cap"),
        ({"account_cap_window_days": 0}, "account_cap_window_days"),
        ({"send_window_start": time(17), "send_window_end": time(9)}, "send_window_end"),
        ({"send_window_start": time(9), "send_window_end": time(9)}, "send_window_end"),
        ({"send_window_start": "nine"}, "send_window_start"),
        ({"send_window_end": 17}, "send_window_end"),
        ({"send_weekdays": frozenset()}, "send_weekdays"),
        ({"send_weekdays": [7]}, "send_weekdays"),
        ({"send_weekdays": ["funday"]}, "send_weekdays"),
        ({"send_weekdays": "mon"}, "send_weekdays"),
        ({"default_timezone": "Mars/Olympus_Mons"}, "default_timezone"),
        ({"default_timezone": ""}, "default_timezone"),
    ],
)
def test_invalid_values_raise_a_value_error_naming_the_field(changes, field):
    with pytest.raises(InvalidRuleError) as caught:
        CadenceRules(**changes)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_zero_days_are_valid_and_mean_off():
    rules = CadenceRules(
        recontact_days=0, recurrence_days=0, min_tenure_days=0, dismissal_backoff_days=0
    )
    assert rules.recontact_days == 0


def test_times_and_weekdays_accept_json_forms():
    rules = CadenceRules.from_mapping(
        {
            "send_window_start": "08:30",
            "send_window_end": "18:00",
            "send_weekdays": ["mon", "Tuesday", 2, "SAT"],
        }
    )
    assert rules.send_window_start == time(8, 30)
    assert rules.send_window_end == time(18)
    assert rules.send_weekdays == frozenset({0, 1, 2, 5})


def test_from_mapping_rejects_unknown_keys():
    with pytest.raises(InvalidRuleError) as caught:
        CadenceRules.from_mapping({"recontact_dayz": 3})
    assert caught.value.field == "recontact_dayz"


def test_to_dict_round_trips():
    rules = CadenceRules(
        account_cap=5,
        send_window_start=time(8, 15),
        send_weekdays=frozenset({6, 0}),
        default_timezone="Europe/Berlin",
    )
    data = rules.to_dict()
    assert data["send_window_start"] == "08:15"
    assert data["send_weekdays"] == [0, 6]
    assert CadenceRules.from_mapping(data) == rules


def test_overrides_replace_only_the_fields_they_set():
    workspace = CadenceRules(recontact_days=45, account_cap=10)
    survey = CadenceOverrides(recurrence_days=180, send_weekdays=frozenset({5}))
    merged = workspace.merged(survey)
    assert merged.recontact_days == 45  # inherited
    assert merged.account_cap == 10  # inherited
    assert merged.recurrence_days == 180
    assert merged.send_weekdays == frozenset({5})
    assert workspace.merged(None) is workspace
    assert workspace.merged(CadenceOverrides()) == workspace


def test_overrides_are_validated_on_their_own_and_once_merged():
    with pytest.raises(InvalidRuleError) as caught:
        CadenceOverrides(recontact_days=-1)
    assert caught.value.field == "recontact_days"
    with pytest.raises(InvalidRuleError) as caught:
        CadenceOverrides(send_weekdays=frozenset())
    assert caught.value.field == "send_weekdays"
    # Each end is fine alone; together with the workspace's end the window is empty.
    late_start = CadenceOverrides(send_window_start=time(18))
    with pytest.raises(InvalidRuleError) as caught:
        CadenceRules().merged(late_start)
    assert caught.value.field == "send_window_end"
    assert CadenceRules().merged(
        CadenceOverrides.from_mapping({"send_window_start": "18:00", "send_window_end": "20:00"})
    ).send_window_end == time(20)


def test_overrides_json_keeps_only_set_fields():
    overrides = CadenceOverrides.from_mapping({"yearly_cap": 2, "recontact_days": None})
    assert overrides.to_dict() == {"yearly_cap": 2}
