"""A survey's email templates through the API (admins only): checked on save, previewed.

``POST``/``PATCH /surveys`` take ``email_subject``, ``email_html`` and ``email_text``
(Jinja2, see :mod:`app.messages.email_templates`; null means the default). Each is refused
with a 400 naming its field unless it renders with sample data for every step and contains
the eleven score links and the unsubscribe link. ``GET /surveys/<id>/email-preview?step=``
renders the survey's email for a made-up person and returns the templates it used.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from app.access import Permission, current_role, requires
from app.api import bp
from app.api.serialize import survey_json
from app.errors import AppError
from app.messages import email_templates
from app.models import Survey
from app.vocabulary import StaffRole, Step


def survey_out(survey: Survey) -> dict[str, Any]:
    """The survey as JSON; its email templates only for admins' keys."""
    body = survey_json(survey)
    if current_role() == StaffRole.ADMIN:
        body["email_template"] = {
            "subject": survey.email_subject,
            "html": survey.email_html,
            "text": survey.email_text,
        }
    return body


@bp.get("/surveys/<int:survey_id>/email-preview")
@requires(Permission.MANAGE)
def preview_email(survey_id: int) -> Any:
    from app.api.surveys import get_survey_or_404

    survey = get_survey_or_404(survey_id)
    raw_step = request.args.get("step", Step.INITIAL.value)
    if raw_step not in (Step.INITIAL, Step.REMINDER_1, Step.REMINDER_2):
        raise AppError("step must be initial, reminder_1 or reminder_2", field="step")
    templates = email_templates.templates_of(
        survey.email_subject, survey.email_html, survey.email_text
    )
    config = current_app.config
    sample = email_templates.samples(config["BASE_URL"], config["COMPANY_NAME"])[0]
    try:
        rendered = email_templates.render_for(
            templates, config["COMPANY_NAME"], survey.question, Step(raw_step), sample
        )
    except email_templates.TemplateProblem as exc:  # a template saved before a rule changed
        raise AppError(str(exc), field=exc.field, code="invalid_template") from exc
    return jsonify(
        {
            "step": raw_step,
            **rendered,
            "source": {
                "subject": templates.subject,
                "html": templates.html,
                "text": templates.text,
            },
            "custom": {
                "subject": survey.email_subject is not None,
                "html": survey.email_html is not None,
                "text": survey.email_text is not None,
            },
        }
    )
