"""The cadence engine, rule by rule: the decision, its reason, message and next eligible time."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, time, timedelta

import pytest

from app.policy.cadence import check, decide, decide_redisplay, earliest_eligible
from app.policy.facts import (
    REFUSAL_ORDER,
    Channel,
    Contact,
    ContactKind,
    History,
    Person,
    PolicyInputError,
    Reason,
)
from app.policy.rules import CadenceRules

NOW = datetime(2024, 11, 15, 15, 0, tzinfo=UTC)  # a Friday
RULES = CadenceRules()
# Signed up long ago, in UTC: the rule under test is the only one that can refuse.
VETERAN = Person(timezone="UTC", signed_up_at=datetime(2020, 1, 1, tzinfo=UTC))
SURVEY = 9


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run(
    history: History = History(),  # noqa: B008 - History is frozen
    *,
    person: Person = VETERAN,
    rules: CadenceRules = RULES,
    channel: Channel | str = Channel.LINK,
    survey_id: int = SURVEY,
    now: datetime = NOW,
):
    return decide(rules, person, history, survey_id=survey_id, channel=channel, now=now)


def test_nothing_in_the_way_allows_now():
    decision = run()
    assert decision.allowed
    assert decision.reason is Reason.OK
    assert decision.message == "May be asked now."
    assert decision.send_at == decision.next_eligible_at == NOW
    assert decision.refusals == ()
    assert decision.notes == ()


# -- recontact period ------------------------------------------------------------------------


def test_recontact_period_refuses_with_message_and_date():
    history = History(contacts=(Contact(utc(2024, 11, 3, 10), survey_id=1),))
    decision = run(history)
    assert not decision.allowed
    assert decision.reason is Reason.RECONTACT_PERIOD
    assert decision.refusals[0].message == (
        "Asked 12 days ago (Nov 3); the recontact period is 30 days."
    )
    assert decision.next_eligible_at == utc(2024, 12, 3, 10)
    assert decision.message == (
        "Asked 12 days ago (Nov 3); the recontact period is 30 days. "
        "Next eligible: Dec 3, 10:00 UTC."
    )
    assert decision.send_at is None


def test_recontact_period_boundary_is_exact():
    history = History(contacts=(Contact(utc(2024, 11, 3, 10), survey_id=1),))
    assert run(history, now=utc(2024, 12, 3, 10)).allowed
    assert not run(history, now=utc(2024, 12, 3, 9, 59, 59, 999999)).allowed


def test_widget_display_counts_as_a_contact():
    shown = Contact(utc(2024, 11, 3, 10), survey_id=1, kind=ContactKind.WIDGET_DISPLAY)
    decision = run(History(contacts=(shown,)), channel=Channel.EMAIL)
    assert decision.reason is Reason.RECONTACT_PERIOD
    assert decision.refusals[0].message == (
        "Shown a survey in the app 12 days ago (Nov 3); the recontact period is 30 days."
    )


def test_a_scheduled_invitation_blocks_asks_before_it_too():
    scheduled = Contact(utc(2024, 11, 18, 10), survey_id=1)
    decision = run(History(contacts=(scheduled,)))
    assert decision.reason is Reason.RECONTACT_PERIOD
    assert decision.refusals[0].message == (
        "Already due to be asked in 2 days (Nov 18); the recontact period is 30 days."
    )
    assert decision.next_eligible_at == utc(2024, 12, 18, 10)


def test_the_latest_contact_counts_whatever_the_order_given():
    history = History(
        contacts=(Contact(ago(days=2), survey_id=1), Contact(ago(days=20), survey_id=2))
    )
    assert run(history).next_eligible_at == ago(days=2) + timedelta(days=30)


def test_zero_days_switch_the_rule_off():
    history = History(contacts=(Contact(ago(hours=1), survey_id=1),))
    rules = CadenceRules(recontact_days=0)
    assert run(history, rules=rules).allowed


# -- recurrence ------------------------------------------------------------------------------


def test_recurrence_refuses_the_same_survey_only():
    history = History(contacts=(Contact(ago(days=40), survey_id=SURVEY),))
    decision = run(history)
    assert decision.reason is Reason.RECURRENCE
    assert [r.reason for r in decision.refusals] == [Reason.RECURRENCE]
    assert decision.refusals[0].message == (
        "Got this survey 40 days ago (Oct 6); it may be repeated every 90 days."
    )
    assert decision.next_eligible_at == utc(2025, 1, 4, 15)
    assert decision.message.endswith("Next eligible: Jan 4, 2025, 15:00 UTC.")
    assert run(history, survey_id=SURVEY + 1).allowed


# -- minimum tenure --------------------------------------------------------------------------


def test_min_tenure_refuses_new_people():
    person = Person(timezone="UTC", signed_up_at=ago(days=5))
    decision = run(person=person)
    assert decision.reason is Reason.MIN_TENURE
    assert decision.refusals[0].message == (
        "Signed up 5 days ago (Nov 10); the minimum tenure is 14 days."
    )
    assert decision.next_eligible_at == utc(2024, 11, 24, 15)


def test_unknown_sign_up_skips_min_tenure_and_says_so():
    decision = run(person=Person(timezone="UTC"))
    assert decision.allowed
    assert decision.notes == ("Sign-up date unknown; minimum tenure not applied.",)
    # Nothing to say when the rule is off anyway.
    assert run(person=Person(), rules=CadenceRules(min_tenure_days=0)).notes == ()


# -- yearly cap ------------------------------------------------------------------------------


def test_yearly_cap_counts_a_rolling_365_days():
    contacts = tuple(
        Contact(ago(days=d), survey_id=i) for i, d in enumerate((300, 200, 100, 40, 366))
    )
    decision = run(History(contacts=contacts))
    assert decision.reason is Reason.YEARLY_CAP
    assert decision.refusals[0].message == (
        "Asked 4 times in the last 365 days; the yearly cap is 4. "
        "The next slot frees on Jan 19, 2025."
    )
    # The oldest of the four (Jan 20) turns 365 days old on Jan 19, 2025 (2024 is a leap year).
    assert decision.next_eligible_at == utc(2025, 1, 19, 15)
    assert run(History(contacts=contacts[1:])).allowed


# -- account cap -----------------------------------------------------------------------------


def test_account_cap_waits_for_a_slot():
    rules = CadenceRules(account_cap=3)
    asked = (ago(days=1), ago(days=6), ago(days=2), ago(days=8))
    decision = run(History(account_asked_at=asked), rules=rules)
    assert decision.reason is Reason.ACCOUNT_CAP
    assert decision.refusals[0].message == (
        "3 other people of this account were asked in the last 7 days; the account cap is 3. "
        "Waiting for a slot: the next frees on Nov 16, 15:00 UTC."
    )
    assert decision.next_eligible_at == utc(2024, 11, 16, 15)
    assert run(History(account_asked_at=asked[:2]), rules=rules).allowed
    assert run(History(account_asked_at=asked)).allowed  # unlimited by default


def test_account_cap_message_singular():
    rules = CadenceRules(account_cap=1, account_cap_window_days=1)
    decision = run(History(account_asked_at=(ago(hours=2),)), rules=rules)
    assert decision.refusals[0].message.startswith(
        "1 other person of this account was asked in the last 1 day; the account cap is 1."
    )


# -- dismissal backoff -----------------------------------------------------------------------


def test_dismissal_backoff_holds_back_the_widget_only():
    history = History(last_dismissed_at=ago(days=3))
    decision = run(history, channel=Channel.WIDGET)
    assert decision.reason is Reason.DISMISSAL_BACKOFF
    assert decision.refusals[0].message == (
        "Dismissed a survey in the app 3 days ago (Nov 12); the app waits 7 days after a dismissal."
    )
    assert decision.next_eligible_at == utc(2024, 11, 19, 15)
    for channel in (Channel.EMAIL, Channel.SMS, Channel.LINK):
        assert run(history, channel=channel).allowed


def test_redisplay_of_an_open_widget_invitation_only_waits_for_the_backoff():
    # A dismissed, still open invitation is shown again after 7 days, not 30: showing it
    # again is like a reminder, not a new contact.
    decision = decide_redisplay(RULES, VETERAN, last_dismissed_at=ago(days=3), now=NOW)
    assert decision.reason is Reason.DISMISSAL_BACKOFF
    assert decision.next_eligible_at == utc(2024, 11, 19, 15)
    assert decide_redisplay(RULES, VETERAN, last_dismissed_at=ago(days=8), now=NOW).allowed
    assert decide_redisplay(RULES, VETERAN, last_dismissed_at=None, now=NOW).allowed
    stopped = Person(suppression="unsubscribed")
    refused = decide_redisplay(RULES, stopped, last_dismissed_at=None, now=NOW)
    assert refused.reason is Reason.SUPPRESSED
    assert refused.next_eligible_at is None


# -- suppression -----------------------------------------------------------------------------


def test_suppression_always_wins():
    person = Person(suppression="sms_stop", signed_up_at=ago(days=1))
    history = History(
        contacts=(Contact(ago(days=1), survey_id=SURVEY),), last_dismissed_at=ago(hours=1)
    )
    decision = run(history, person=person, channel=Channel.WIDGET)
    assert not decision.allowed
    assert decision.reason is Reason.SUPPRESSED
    assert decision.next_eligible_at is None
    assert decision.send_at is None
    assert decision.refusals[0].message == (
        "Suppressed (replied STOP by SMS): this person must not be contacted."
    )
    assert decision.message.endswith("Not eligible while this lasts.")
    assert (
        earliest_eligible(
            RULES, person, history, survey_id=SURVEY, channel="widget", not_before=NOW
        )
        is None
    )


def test_suppression_reason_wording():
    decision = run(person=Person(suppression="spam_report"))
    assert decision.refusals[0].message.startswith("Suppressed (spam report):")


# -- several rules at once -------------------------------------------------------------------


def test_all_refusals_are_listed_in_precedence_order_and_the_latest_wins():
    person = Person(timezone="UTC", signed_up_at=ago(days=10))
    history = History(
        contacts=(Contact(ago(days=5), survey_id=SURVEY),),
        last_dismissed_at=ago(days=1),
        account_asked_at=(ago(days=1),),
    )
    rules = CadenceRules(account_cap=1)
    decision = run(history, person=person, rules=rules, channel=Channel.WIDGET)
    reasons = [r.reason for r in decision.refusals]
    assert reasons == [
        Reason.MIN_TENURE,
        Reason.RECURRENCE,
        Reason.RECONTACT_PERIOD,
        Reason.DISMISSAL_BACKOFF,
        Reason.ACCOUNT_CAP,
    ]
    assert reasons == [r for r in REFUSAL_ORDER if r in reasons]
    assert decision.reason is Reason.MIN_TENURE  # first in order, not the longest wait
    # Recurrence (90 days after the ask 5 days ago) is the longest wait.
    assert decision.next_eligible_at == ago(days=5) + timedelta(days=90)
    for refusal in decision.refusals:
        assert refusal.message in decision.message


# -- quiet hours -----------------------------------------------------------------------------

NEW_YORK = Person(timezone="America/New_York", signed_up_at=utc(2020, 1, 1))


def test_quiet_hours_move_email_and_sms_but_do_not_refuse():
    friday_evening = utc(2024, 11, 15, 23)  # 18:00 EST
    for channel in (Channel.EMAIL, Channel.SMS):
        decision = run(person=NEW_YORK, channel=channel, now=friday_evening)
        assert decision.allowed
        assert decision.reason is Reason.QUIET_HOURS
        assert decision.send_at == decision.next_eligible_at == utc(2024, 11, 18, 14)
        assert decision.message == (
            "Outside the send window (09:00-17:00, Mon-Fri, America/New_York): it is "
            "Fri Nov 15, 18:00 there. Scheduled for Mon Nov 18, 09:00 local time "
            "(Nov 18, 14:00 UTC)."
        )


def test_quiet_hours_do_not_apply_to_widget_or_link():
    at_night = utc(2024, 11, 17, 3)  # Saturday 22:00 in New York
    for channel in (Channel.WIDGET, Channel.LINK):
        decision = run(person=NEW_YORK, channel=channel, now=at_night)
        assert decision.reason is Reason.OK
        assert decision.send_at == at_night


def test_next_eligible_combines_rules_and_quiet_hours():
    # The recontact period ends Saturday Dec 14 15:00 UTC: email waits for Monday 09:00 EST,
    # a link does not.
    history = History(contacts=(Contact(utc(2024, 11, 14, 15), survey_id=1),))
    email = run(history, person=NEW_YORK, channel=Channel.EMAIL)
    assert email.next_eligible_at == utc(2024, 12, 16, 14)
    assert email.message.endswith(
        "Next eligible: Mon Dec 16, 09:00 local time (Dec 16, 14:00 UTC)."
    )
    link = run(history, person=NEW_YORK, channel=Channel.LINK)
    assert link.next_eligible_at == utc(2024, 12, 14, 15)


def test_rule_ending_inside_the_window_keeps_its_exact_time():
    # Ends Tuesday Dec 10 16:59 EST (21:59 UTC), a minute before the window closes.
    history = History(contacts=(Contact(utc(2024, 11, 10, 21, 59), survey_id=1),))
    assert run(history, person=NEW_YORK, channel="email").next_eligible_at == utc(
        2024, 12, 10, 21, 59
    )
    # Ends at 17:00 EST sharp: the window has closed, Wednesday 09:00.
    history = History(contacts=(Contact(utc(2024, 11, 10, 22), survey_id=1),))
    assert run(history, person=NEW_YORK, channel="email").next_eligible_at == utc(2024, 12, 11, 14)


def test_next_eligible_across_a_dst_change():
    # Tenure ends Saturday 2024-03-09 in Berlin; Monday 09:00 is CET (08:00 UTC). A week later
    # clocks have gone forward: the Monday after 2024-03-31 opens at 07:00 UTC.
    berlin = Person(timezone="Europe/Berlin", signed_up_at=utc(2024, 2, 24, 12))
    assert run(person=berlin, channel="email", now=utc(2024, 3, 1)).next_eligible_at == utc(
        2024, 3, 11, 8
    )
    berlin = Person(timezone="Europe/Berlin", signed_up_at=utc(2024, 3, 16, 12))
    assert run(person=berlin, channel="email", now=utc(2024, 3, 20)).next_eligible_at == utc(
        2024, 4, 1, 7
    )


def test_a_custom_window_applies():
    rules = CadenceRules(
        send_window_start=time(18), send_window_end=time(20), send_weekdays=frozenset({5, 6})
    )
    kolkata = Person(timezone="Asia/Kolkata", signed_up_at=utc(2020, 1, 1))
    decision = run(person=kolkata, rules=rules, channel="sms")
    # Friday 20:30 IST -> Saturday 18:00 IST = 12:30 UTC.
    assert decision.send_at == utc(2024, 11, 16, 12, 30)


def test_unknown_or_invalid_time_zone_uses_the_workspace_default():
    rules = CadenceRules(default_timezone="America/New_York")
    person = Person(timezone=None, signed_up_at=utc(2020, 1, 1))
    decision = run(person=person, rules=rules, channel="email", now=utc(2024, 11, 15, 23))
    assert decision.send_at == utc(2024, 11, 18, 14)
    assert decision.notes == ("Time zone unknown; quiet hours applied in America/New_York.",)
    person = Person(timezone="Nowhere/Special", signed_up_at=utc(2020, 1, 1))
    decision = run(person=person, channel="email")
    assert decision.notes == (
        "Time zone 'Nowhere/Special' is not a known IANA name; quiet hours applied in UTC.",
    )
    # No quiet hours, nothing to say.
    assert run(person=person, channel="widget").notes == ()


# -- the rest of the API ---------------------------------------------------------------------


def test_deciding_at_next_eligible_allows():
    history = History(contacts=(Contact(utc(2024, 11, 14, 15), survey_id=SURVEY),))
    first = run(history, person=NEW_YORK, channel="email")
    later = run(history, person=NEW_YORK, channel="email", now=first.next_eligible_at)
    assert later.reason is Reason.OK
    assert later.send_at == first.next_eligible_at


def test_check_reports_rules_at_any_instant():
    history = History(contacts=(Contact(ago(days=5), survey_id=SURVEY),))
    args = {"survey_id": SURVEY, "channel": "link"}
    refusals = check(RULES, VETERAN, history, at=NOW, **args)
    assert [r.reason for r in refusals] == [Reason.RECURRENCE, Reason.RECONTACT_PERIOD]
    assert [r.reason for r in check(RULES, VETERAN, history, at=ago(days=-40), **args)] == [
        Reason.RECURRENCE
    ]
    assert check(RULES, VETERAN, history, at=ago(days=-90), **args) == ()


def test_channel_accepts_strings_and_other_str_enums():
    class VocabularyChannel(enum.StrEnum):
        SMS = "sms"

    assert run(channel="sms").allowed
    assert run(channel=VocabularyChannel.SMS).allowed
    with pytest.raises(PolicyInputError) as caught:
        run(channel="pigeon")
    assert caught.value.field == "channel"


def test_to_dict_is_json_ready():
    history = History(contacts=(Contact(utc(2024, 11, 3, 10), survey_id=1),))
    assert run(history).to_dict() == {
        "allowed": False,
        "reason": "recontact_period",
        "message": "Asked 12 days ago (Nov 3); the recontact period is 30 days. "
        "Next eligible: Dec 3, 10:00 UTC.",
        "send_at": None,
        "next_eligible_at": "2024-12-03T10:00:00Z",
        "refusals": [
            {
                "reason": "recontact_period",
                "message": "Asked 12 days ago (Nov 3); the recontact period is 30 days.",
                "until": "2024-12-03T10:00:00Z",
            }
        ],
        "notes": [],
    }


def test_times_in_other_zones_are_normalised_to_utc():
    from zoneinfo import ZoneInfo

    local = datetime(2024, 11, 3, 11, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:00 UTC
    contact = Contact(local, survey_id=1)
    assert contact.at == utc(2024, 11, 3, 10) and contact.at.tzinfo is UTC
    assert run(History(contacts=(contact,))).next_eligible_at == utc(2024, 12, 3, 10)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: run(now=datetime(2024, 11, 15, 15)), "now"),
        (lambda: run(now="2024-11-15"), "now"),
        (lambda: Contact(datetime(2024, 11, 1), survey_id=1), "contact.at"),
        (lambda: Contact(NOW, survey_id=1, kind="reminder"), "contact.kind"),
        (lambda: Person(signed_up_at=datetime(2024, 1, 1)), "signed_up_at"),
        (lambda: Person(signed_up_at=datetime(9999, 1, 1, tzinfo=UTC)), "signed_up_at"),
        (lambda: History(last_dismissed_at=datetime(2024, 1, 1)), "last_dismissed_at"),
        (lambda: History(account_asked_at=(datetime(2024, 1, 1),)), "account_asked_at"),
        (lambda: History(contacts=(NOW,)), "contacts"),
        (lambda: History(contacts="abc"), "contacts"),
        (lambda: run(rules={"recontact_days": 3}), "rules"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_field(build, field):
    with pytest.raises(PolicyInputError) as caught:
        build()
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field
