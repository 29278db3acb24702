"""Survey email templates an admin can edit: untrusted Jinja2, rendered in a sandbox.

A survey may carry its own subject, HTML and text templates (``Survey.email_subject``,
``email_html``, ``email_text``); a missing one falls back to the default in
``app/templates/messages/``. Defaults and admins' templates go through the same sandboxed
environment and the same checks, so a default can never do what an admin's cannot.

**Rendered once per survey and step.** So that up to 1,000 recipients share one SendGrid
request, a template is rendered once with the survey's values (``company``, ``question``,
``step``...) and *placeholders* for the per-recipient ones (``greeting``, ``name``, the
links...); the channel fills the placeholders per recipient (``channels.base.substitute``
or SendGrid's substitutions). A template may therefore only insert a per-recipient value as
it is: a filter, test or condition on it (``{{ name|upper }}``, ``{% if first_name %}``)
would act on the placeholder, not on the person's value. :func:`validate` catches that by
rendering each sample both ways (placeholders then substitution, and directly with the
sample's values) and refusing the template when they differ.

**Untrusted input.** The :class:`jinja2.sandbox.SandboxedEnvironment` keeps templates away
from Python internals (no ``__class__``, no attribute walks to globals), undefined names are
errors rather than silent blanks, there is no loader (no ``include``/``extends``/``import``),
and string repetition and powers are capped. Templates are size-limited and so is what they
render. Only plain values reach the context: strings, numbers, booleans, a ``range`` and one
function. (As Jinja's own documentation says, a sandbox does not bound CPU time; editing
templates is an admin's right, so a deliberately slow template is an admin's own doing.)

Variables (all templates):

========================  ==============================================================
``company``               the company name (``COMPANY_NAME``)
``question``              the survey's question
``step``                  ``initial``, ``reminder_1`` or ``reminder_2``
``reminder``              0 for the first email, 1 or 2 for the reminders
``is_reminder``           true for both reminders; ``is_last_reminder`` for the second
``scores``                the numbers 0 to 10
``greeting``              "Hi Dana," or "Hello," when the name is unknown (per recipient)
``name``, ``first_name``  the person's name and first name, may be empty (per recipient)
``sender_name``           the CSM's name, or the company without one (per recipient)
``deadline``              "This survey closes on Tuesday, December 1, 2026." (per recipient)
``closes_on``             "Tuesday, December 1, 2026", in the person's language (per recipient)
``reminder_note``         "A quick reminder: we would still love to hear from you." in the
                          person's language; empty in the first email (per recipient)
``reminder_subject``      "Reminder: <question>" in the person's language; empty in the
                          first email (per recipient)
``score_url(n)``          the signed link that opens the survey with score ``n`` chosen
``survey_url``            the signed link to the survey with nothing chosen
``unsubscribe_url``       the signed unsubscribe link
========================  ==============================================================

HTML templates must link (``<a href>``) every ``score_url(n)`` for 0-10 and the
``unsubscribe_url``; text templates must contain them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from app.vocabulary import Step
from channels.base import EmailContent, substitute

SCORES = range(11)
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"
DEFAULT_FILES = {"subject": "email_subject.txt", "html": "email.html", "text": "email.txt"}
#: API field for each part, so an error names what the admin sent.
FIELDS = {"subject": "email_subject", "html": "email_html", "text": "email_text"}
MAX_SOURCE = {"subject": 2_000, "html": 200_000, "text": 100_000}
MAX_OUTPUT = {"subject": 500, "html": 500_000, "text": 200_000}
MAX_REPEAT = 10_000
MAX_EXPONENT = 100

#: Per-recipient text values and the link values, by template variable name.
TEXT_VALUES = (
    "greeting",
    "name",
    "first_name",
    "sender_name",
    "deadline",
    "closes_on",
    "reminder_note",
    "reminder_subject",
)
LINK_VALUES = ("survey_url", "unsubscribe_url")


class TemplateProblem(ValueError):
    """A template that cannot be used; ``field`` is the API field it came in."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{FIELDS[part]}: {message}")
        self.part = part
        self.field = FIELDS[part]
        self.message = message


@dataclass(frozen=True, slots=True)
class Templates:
    subject: str
    html: str
    text: str

    def part(self, name: str) -> str:
        return str(getattr(self, name))


@dataclass(frozen=True, slots=True)
class Recipient:
    """The per-recipient values, as people read them (not escaped)."""

    name: str
    first_name: str
    greeting: str
    sender_name: str
    deadline: str
    closes_on: str
    survey_url: str
    score_urls: tuple[str, ...]
    unsubscribe_url: str
    reminder_note: str = ""
    """A reminder's opening line in the person's language; empty in the first email."""
    reminder_subject: str = ""
    """A reminder's subject in the person's language ("Reminder: <question>")."""


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sized and len(seq) * max(times, 0) > MAX_REPEAT:
                    raise SecurityError("that repetition is too long")
            return operator.mul(left, right)
        if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError("that exponent is too large")
        return operator.pow(left, right)


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> _Sandbox:
    return _Sandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )


@lru_cache(maxsize=128)
def _compile(source: str, autoescape: bool) -> Any:
    return _environment(autoescape).from_string(source)


@lru_cache(maxsize=1)
def defaults() -> Templates:
    """The default templates, read once from ``app/templates/messages/``."""
    return Templates(
        **{part: (TEMPLATE_DIR / name).read_text() for part, name in DEFAULT_FILES.items()}
    )


def templates_of(subject: str | None, html: str | None, text: str | None) -> Templates:
    """A survey's templates, each falling back to the default."""
    default = defaults()
    return Templates(
        subject=subject or default.subject,
        html=html or default.html,
        text=text or default.text,
    )


def key(name: str, html: bool = False) -> str:
    """The substitution key of a per-recipient value in the text or the HTML part."""
    return f"%{name}_html%" if html and name in TEXT_VALUES else f"%{name}%"


def score_key(score: int) -> str:
    return f"%score_url_{score}%"


def _static(company: str, question: str, step: Step) -> dict[str, Any]:
    reminder = {Step.REMINDER_1: 1, Step.REMINDER_2: 2}.get(step, 0)
    return {
        "company": company,
        "question": question,
        "step": step.value,
        "reminder": reminder,
        "is_reminder": reminder > 0,
        "is_last_reminder": reminder == 2,
        "scores": SCORES,
    }


def _placeholders(html: bool) -> dict[str, Any]:
    values: dict[str, Any] = {name: key(name, html) for name in (*TEXT_VALUES, *LINK_VALUES)}
    values["score_url"] = _score_function(tuple(score_key(n) for n in SCORES))
    return values


def _values(recipient: Recipient) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(recipient, name) for name in (*TEXT_VALUES, *LINK_VALUES)
    }
    values["score_url"] = _score_function(recipient.score_urls)
    return values


def _score_function(urls: tuple[str, ...]) -> Callable[[Any], str]:
    def score_url(n: Any) -> str:
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 10:
            raise ValueError(f"score_url takes a whole number from 0 to 10, not {n!r}")
        return urls[n]

    return score_url


def substitutions(recipient: Recipient) -> dict[str, str]:
    """Every substitution key and its value for one recipient (HTML keys escaped)."""
    subs: dict[str, str] = {}
    for name in TEXT_VALUES:
        value = getattr(recipient, name)
        subs[key(name)] = value
        subs[key(name, html=True)] = str(escape(value))
    for name in LINK_VALUES:
        subs[key(name)] = getattr(recipient, name)
    for n in SCORES:
        subs[score_key(n)] = recipient.score_urls[n]
    return subs


def _render(part: str, source: str, context: Mapping[str, Any]) -> str:
    """Render one part; any failure becomes a :class:`TemplateProblem` naming it."""
    try:
        template = _compile(source, part == "html")
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT[part]:
                raise TemplateProblem(part, f"renders to more than {MAX_OUTPUT[part]:,} characters")
            chunks.append(chunk)
    except TemplateProblem:
        raise
    except TemplateSyntaxError as exc:
        raise TemplateProblem(part, f"line {exc.lineno}: {exc.message}") from None
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
        raise TemplateProblem(part, f"does not render: {exc}") from None
    out = "".join(chunks)
    return " ".join(out.split()) if part == "subject" else out


def render(templates: Templates, company: str, question: str, step: Step) -> EmailContent:
    """The content shared by every recipient of a survey's step, with substitution keys."""
    static = _static(company, question, step)
    return EmailContent(
        subject=_render("subject", templates.subject, {**static, **_placeholders(False)}),
        html=_render("html", templates.html, {**static, **_placeholders(True)}),
        text=_render("text", templates.text, {**static, **_placeholders(False)}),
    )


def render_for(
    templates: Templates, company: str, question: str, step: Step, recipient: Recipient
) -> dict[str, str]:
    """One recipient's email rendered directly with their values (previews, checks)."""
    static = _static(company, question, step)
    values = _values(recipient)
    return {part: _render(part, templates.part(part), {**static, **values}) for part in FIELDS}


def samples(base_url: str, company: str) -> list[Recipient]:
    """Made-up recipients to validate and preview with: one with a name, one without."""
    urls = tuple(f"{base_url}/s/sample-token?score={n}" for n in SCORES)
    common: dict[str, Any] = {
        "sender_name": "Jane Doe",
        "deadline": "This survey closes on Tuesday, December 1, 2026.",
        "closes_on": "Tuesday, December 1, 2026",
        "survey_url": f"{base_url}/s/sample-token",
        "score_urls": urls,
        "unsubscribe_url": f"{base_url}/u/sample-token",
        "reminder_note": "A quick reminder: we would still love to hear from you.",
        "reminder_subject": "Reminder: How likely are you to recommend us?",
    }
    return [
        Recipient(name="Dana O'Neil & Co", first_name="Dana", greeting="Hi Dana,", **common),
        Recipient(
            name="",
            first_name="",
            greeting="Hello,",
            **{**common, "sender_name": company, "deadline": "Closes <soon>."},
        ),
    ]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.update(v.strip() for k, v in attrs if k == "href" and v)


def _missing_links(part: str, rendered: str) -> list[str]:
    required = [(score_key(n), f"score_url({n})") for n in SCORES]
    required.append((key("unsubscribe_url"), "unsubscribe_url"))
    if part == "html":
        parser = _Links()
        parser.feed(rendered)
        parser.close()
        return [name for k, name in required if k not in parser.hrefs]
    return [name for k, name in required if k not in rendered]


def validate(part: str, source: str, *, company: str, question: str, base_url: str) -> None:
    """Raise :class:`TemplateProblem` unless ``source`` can be the survey's ``part``
    (``subject``, ``html`` or ``text``) for every step."""
    if not source.strip():
        raise TemplateProblem(part, "must not be empty (send null for the default)")
    if len(source) > MAX_SOURCE[part]:
        raise TemplateProblem(part, f"must be at most {MAX_SOURCE[part]:,} characters")
    for step in (Step.INITIAL, Step.REMINDER_1, Step.REMINDER_2):
        static = _static(company, question, step)
        shared = _render(part, source, {**static, **_placeholders(part == "html")})
        if part == "subject":
            if not shared:
                raise TemplateProblem(part, f"renders empty for the {step.value} email")
        else:
            missing = _missing_links(part, shared)
            if missing:
                where = "as links (<a href>)" if part == "html" else ""
                raise TemplateProblem(
                    part,
                    f"must contain {where} every score link and the unsubscribe link; "
                    f"missing: {', '.join(missing)}".replace("  ", " "),
                )
        for sample in samples(base_url, company):
            direct = _render(part, source, {**static, **_values(sample)})
            if substitute(shared, substitutions(sample)) != direct:
                raise TemplateProblem(
                    part,
                    "per-recipient values (greeting, name, first_name, sender_name, "
                    "deadline, closes_on and the links) can only be inserted as they are: "
                    "filters, tests and conditions on them cannot be applied per recipient",
                )


def validate_all(templates: Mapping[str, str | None], **context: str) -> None:
    """Validate each given part (``{"html": source, ...}``); None means the default."""
    for part, source in templates.items():
        if source is not None:
            validate(
                part,
                source,
                company=context["company"],
                question=context["question"],
                base_url=context["base_url"],
            )
