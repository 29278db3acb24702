"""The cadence rules, one entry each: the engine's check (with the sentence it writes for
one person), the clause the set-based fan-out writes into SQL, and the sentence stored with a
fan-out's refusal, side by side, in the order of :data:`~app.policy.facts.REFUSAL_ORDER`.

The engine (:mod:`app.policy.cadence`) runs the checks, :mod:`app.services.fanout_sql` writes
the clauses, :func:`app.services.fanout.reason_messages` uses the sentences; a test fails when
a rule lacks any of the three. See :mod:`app.policy.cadence` for the table of what each rule
refuses and until when.

A clause is ``(condition, until)`` over the fan-out's facts (``cand``, ``per``, ``capped``,
``dismissed``, ``acct``, ``me``, ``se``, ``sp``; bound parameters such as ``:now``): the rule
refuses a person when ``condition`` holds and passes again at ``until`` (``None``: never while
the facts stay). A rule that is off (its number of days is 0) has no clause. Only validated
whole numbers of days and fixed reason codes are written into the SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.policy import wording
from app.policy.facts import (
    DISMISSAL_CHANNELS,
    REFUSAL_ORDER,
    Channel,
    Contact,
    ContactKind,
    Person,
    Reason,
    Refusal,
)
from app.policy.quiet_hours import SendWindow
from app.policy.rules import YEAR_DAYS, CadenceRules

__all__ = ["RULES", "Case", "Clause", "Rule", "days", "plus_days_sql"]

_DAY = timedelta(days=1)


def days(count: int) -> timedelta:
    """``D(count)``: exact 24-hour periods."""
    return count * _DAY


Check = Callable[["Case", datetime], Refusal | None]


@dataclass(frozen=True, slots=True)
class Case:
    """Everything one decision reads, validated and sorted once."""

    rules: CadenceRules
    person: Person
    channel: Channel
    survey_id: int
    contacts: tuple[Contact, ...]  # latest first
    survey_contacts: tuple[Contact, ...]  # this survey's, latest first
    account_asked_at: tuple[datetime, ...]  # latest first
    last_dismissed_at: datetime | None
    zone: ZoneInfo | None  # None: quiet hours do not apply to the channel
    window: SendWindow
    checks: tuple[Check, ...]
    notes: tuple[str, ...]


# -- the engine's checks: each returns a Refusal at instant t, or None ----------------------


_SUPPRESSION_LABELS = {"sms_stop": "replied STOP by SMS", "sms_undeliverable": "SMS undeliverable"}


def _suppressed(case: Case, t: datetime) -> Refusal | None:
    reason = case.person.suppression
    if reason is None:
        return None
    label = _SUPPRESSION_LABELS.get(str(reason), str(reason).replace("_", " "))
    return Refusal(
        Reason.SUPPRESSED, f"Suppressed ({label}): this person must not be contacted.", None
    )


def _min_tenure(case: Case, t: datetime) -> Refusal | None:
    n, signed_up = case.rules.min_tenure_days, case.person.signed_up_at
    if not n or signed_up is None or t >= signed_up + days(n):
        return None
    return Refusal(
        Reason.MIN_TENURE,
        f"Signed up {wording.relative(signed_up, t)} ({wording.day(signed_up, t)}); "
        f"the minimum tenure is {wording.plural(n, 'day')}.",
        signed_up + days(n),
    )


def _yearly_cap(case: Case, t: datetime) -> Refusal | None:
    cap, since = case.rules.yearly_cap, t - days(YEAR_DAYS)
    recent = [c for c in case.contacts if c.at > since]
    if len(recent) < cap:
        return None
    frees = recent[cap - 1].at + days(YEAR_DAYS)
    return Refusal(
        Reason.YEARLY_CAP,
        f"Asked {wording.plural(len(recent), 'time')} in the last {YEAR_DAYS} days; the yearly "
        f"cap is {cap}. The next slot frees on {wording.day(frees, t)}.",
        frees,
    )


def _recurrence(case: Case, t: datetime) -> Refusal | None:
    n = case.rules.recurrence_days
    if not n or not case.survey_contacts or case.survey_contacts[0].at <= t - days(n):
        return None
    last = case.survey_contacts[0].at
    when = wording.relative(last, t)
    did = f"Got this survey {when}" if last <= t else f"This survey is already due {when}"
    return Refusal(
        Reason.RECURRENCE,
        f"{did} ({wording.day(last, t)}); it may be repeated every {wording.plural(n, 'day')}.",
        last + days(n),
    )


def _recontact(case: Case, t: datetime) -> Refusal | None:
    n = case.rules.recontact_days
    if not n or not case.contacts or case.contacts[0].at <= t - days(n):
        return None
    last = case.contacts[0]
    when = wording.relative(last.at, t)
    shown = last.kind is ContactKind.WIDGET_DISPLAY
    if last.at <= t:
        did = f"Shown a survey in the app {when}" if shown else f"Asked {when}"
    else:
        did = f"Already due to be {'shown a survey' if shown else 'asked'} {when}"
    return Refusal(
        Reason.RECONTACT_PERIOD,
        f"{did} ({wording.day(last.at, t)}); the recontact period is {wording.plural(n, 'day')}.",
        last.at + days(n),
    )


def _dismissal(case: Case, t: datetime) -> Refusal | None:
    n, dismissed = case.rules.dismissal_backoff_days, case.last_dismissed_at
    if (
        not n
        or case.channel not in DISMISSAL_CHANNELS
        or dismissed is None
        or dismissed <= t - days(n)
    ):
        return None
    return Refusal(
        Reason.DISMISSAL_BACKOFF,
        f"Dismissed a survey in the app {wording.relative(dismissed, t)} "
        f"({wording.day(dismissed, t)}); the app waits {wording.plural(n, 'day')} after a "
        "dismissal.",
        dismissed + days(n),
    )


def _account_cap(case: Case, t: datetime) -> Refusal | None:
    cap, window = case.rules.account_cap, case.rules.account_cap_window_days
    if cap is None:
        return None
    since = t - days(window)
    recent = [at for at in case.account_asked_at if at > since]
    if len(recent) < cap:
        return None
    frees = recent[cap - 1] + days(window)
    return Refusal(
        Reason.ACCOUNT_CAP,
        f"{'1 other person' if len(recent) == 1 else f'{len(recent)} other people'} of this "
        f"account {'was' if len(recent) == 1 else 'were'} asked in the last "
        f"{wording.plural(window, 'day')}; the account cap is {cap}. Waiting for a slot: "
        f"the next frees on {wording.utc_moment(frees, t)}.",
        frees,
    )


# -- the fan-out's clauses ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    condition: str
    until: str | None


def plus_days_sql(expr: str, n: int, pg: bool) -> str:
    """``expr + D(n)`` in SQL (exact seconds; see :mod:`app.policy.cadence`)."""
    seconds = int(n) * 86400
    if pg:
        return f"({expr} + make_interval(secs => {seconds}))"
    # SQLite keeps times as 'YYYY-MM-DD HH:MM:SS.ffffff': add whole seconds, keep the fraction.
    return f"(strftime('%Y-%m-%d %H:%M:%S', {expr}, '+{seconds} seconds') || substr({expr}, 20))"


def _passes_at(expr: str, n: int, pg: bool) -> str:
    return f"COALESCE({plus_days_sql(expr, n, pg)}, :now)"


#: The account cap's fact: the time the cap-th latest *other* person of the account was asked.
OTHERS_CAP_SQL = "(CASE WHEN me.rn <= :account_cap THEN acct.t_cap1 ELSE acct.t_cap END)"


def _suppressed_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    return Clause("se.id IS NOT NULL OR sp.id IS NOT NULL", None)


def _min_tenure_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    n = rules.min_tenure_days
    if not n:
        return None
    return Clause("cand.signed_up_at > :tenure_since", _passes_at("cand.signed_up_at", n, pg))


def _yearly_cap_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    return Clause("per.year_count >= :yearly_cap", _passes_at("capped.at", YEAR_DAYS, pg))


def _recurrence_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    n = rules.recurrence_days
    if not n:
        return None
    return Clause("per.last_survey_at > :recurrence_since", _passes_at("per.last_survey_at", n, pg))


def _recontact_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    n = rules.recontact_days
    if not n:
        return None
    return Clause("per.last_at > :recontact_since", _passes_at("per.last_at", n, pg))


def _dismissal_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    n = rules.dismissal_backoff_days
    if not n or channel not in DISMISSAL_CHANNELS:
        return None
    return Clause("dismissed.at > :dismissal_since", _passes_at("dismissed.at", n, pg))


def _account_cap_sql(rules: CadenceRules, channel: Channel, pg: bool) -> Clause | None:
    if rules.account_cap is None:
        return None
    return Clause(
        f"{OTHERS_CAP_SQL} > :acct_since",
        _passes_at(OTHERS_CAP_SQL, rules.account_cap_window_days, pg),
    )


# -- the sentences stored with a fan-out's refusal (``by``: "campaign 7", "the event ask") --


def _suppressed_says(rules: CadenceRules, by: str) -> str:
    return f"Not asked by {by}: suppressed; this person must not be contacted."


def _min_tenure_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Not asked by {by}: signed up less than {rules.min_tenure_days} days ago (minimum tenure)."
    )


def _yearly_cap_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Not asked by {by}: already asked {rules.yearly_cap} times in the last {YEAR_DAYS} "
        "days (yearly cap)."
    )


def _recurrence_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Not asked by {by}: got this survey within the last {rules.recurrence_days} days "
        "(recurrence)."
    )


def _recontact_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Not asked by {by}: asked within the last {rules.recontact_days} days (recontact period)."
    )


def _dismissal_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Not asked by {by}: dismissed a survey in the app within the last "
        f"{rules.dismissal_backoff_days} days."
    )


def _account_cap_says(rules: CadenceRules, by: str) -> str:
    return (
        f"Waiting ({by}): {rules.account_cap} people of this account were already asked in "
        f"{rules.account_cap_window_days} days (account cap); asked when a slot frees."
    )


# -- the rule table -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One cadence rule: its reason code, the engine's check, the fan-out's SQL clause and
    the sentence stored with a fan-out's refusal."""

    reason: Reason
    check: Check
    sql: Callable[[CadenceRules, Channel, bool], Clause | None]
    says: Callable[[CadenceRules, str], str]


#: Every cadence rule, in precedence order (:data:`~app.policy.facts.REFUSAL_ORDER`).
RULES: tuple[Rule, ...] = (
    Rule(Reason.SUPPRESSED, _suppressed, _suppressed_sql, _suppressed_says),
    Rule(Reason.MIN_TENURE, _min_tenure, _min_tenure_sql, _min_tenure_says),
    Rule(Reason.YEARLY_CAP, _yearly_cap, _yearly_cap_sql, _yearly_cap_says),
    Rule(Reason.RECURRENCE, _recurrence, _recurrence_sql, _recurrence_says),
    Rule(Reason.RECONTACT_PERIOD, _recontact, _recontact_sql, _recontact_says),
    Rule(Reason.DISMISSAL_BACKOFF, _dismissal, _dismissal_sql, _dismissal_says),
    Rule(Reason.ACCOUNT_CAP, _account_cap, _account_cap_sql, _account_cap_says),
)
BY_REASON: dict[Reason, Rule] = {rule.reason: rule for rule in RULES}
assert tuple(BY_REASON) == REFUSAL_ORDER, "RULES must follow REFUSAL_ORDER"
