"""The e-mails Charter sends on a tenant's behalf, per message kind and locale.

Each ``templates/<locale>/<kind>.jinja`` is written once, as plain sentences in blocks
(subject, lead, heading, main, code, outro), and rendered twice: as text, and with
autoescaping into ``_layout.html``. So translators keep one file per message, and no
payload value reaches the HTML unescaped. ``<locale>/_frame.jinja`` holds what a
locale's messages share: greeting, sign-off, names of request types and policy kinds.

A tenant may replace the subject or text per locale. Those templates come from outside,
so they run in a sandbox allowing little more than variables, ``if`` and a few filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, nodes
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from tenants.policies.locales import choose

__all__ = ["KINDS", "LOCALES", "OverrideError", "Rendered", "check_overrides", "render"]

DEFAULT_LOCALE = "en"
LOCALES = ("en", "ru", "uz", "ky", "kk")
# kind -> payload keys it cannot be written without; OPTIONAL ones may be absent.
KINDS: dict[str, tuple[str, ...]] = {
    "subject_request.verification": ("request_id", "type", "token"),
    "subject_request.completed": ("request_id", "type", "status"),
    "subject_request.extended": ("request_id", "type", "due_on", "note"),
    "breach.notice": ("breach_id", "title", "body"),
    "policy.material_change": ("site", "kind", "version", "effective_at"),
    "subject.restriction_lifted": ("lifted_on",),
}
OPTIONAL = ("note", "change_summary")
CLOSED_STATUSES = ("COMPLETED", "REJECTED")
MAX_OVERRIDE_CHARS = 5000
# Used by check_overrides to try a tenant's template before it is saved.
SAMPLES: dict[str, dict[str, Any]] = {
    "subject_request.verification": {"request_id": "r-1", "type": "ACCESS", "token": "T0KEN"},
    "subject_request.completed": {"request_id": "r-1", "type": "ERASURE", "status": "COMPLETED"},
    "subject_request.extended": {"request_id": "r-1", "type": "ACCESS", "due_on": "2030-01-31",
                                 "note": "Why"},
    "breach.notice": {"breach_id": "b-1", "title": "Title", "body": "Body"},
    "policy.material_change": {"site": "example", "kind": "PRIVACY", "version": 2,
                               "effective_at": "2030-01-01T00:00:00+00:00"},
    "subject.restriction_lifted": {"lifted_on": "2030-01-31", "note": "Why"},
}  # fmt: skip
_BLOCKS = ("lead", "heading", "main", "code", "outro")
_DIR = Path(__file__).with_name("templates")


class OverrideError(ValueError):
    """A tenant's template that cannot be used: syntax, a refused construct, an error."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    locale: str


def _files(*, autoescape: bool) -> Environment:
    # StrictUndefined: a misspelt variable in our own templates fails the test suite
    # instead of sending an e-mail with a hole where the code should be.
    return Environment(
        loader=FileSystemLoader(_DIR), autoescape=autoescape, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, auto_reload=False,
    )  # fmt: skip


class _Sandbox(ImmutableSandboxedEnvironment):
    """Tenant templates: no attribute access at all (that is where sandbox escapes and
    huge allocations such as ``'x'.ljust(10**9)`` live), no globals (``range``), and
    only filters whose output is no bigger than their input."""

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=StrictUndefined)
        self.globals.clear()
        names = ("capitalize", "d", "default", "e", "escape", "lower", "title", "trim", "upper")
        self.filters = {name: FILTERS[name] for name in names}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False


# Loops, macros, assignments and arithmetic are how a short template becomes a long
# render (doubling a variable in a loop); an e-mail text needs none of them.
_REFUSED = (
    nodes.For, nodes.Macro, nodes.CallBlock, nodes.Call, nodes.FilterBlock, nodes.Block,
    nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Assign,
    nodes.AssignBlock, nodes.With, nodes.Mul, nodes.Pow, nodes.Mod, nodes.Div, nodes.FloorDiv,
)  # fmt: skip

_TEXT, _HTML = _files(autoescape=False), _files(autoescape=True)
_SANDBOX_TEXT, _SANDBOX_HTML = _Sandbox(autoescape=False), _Sandbox(autoescape=True)
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def _paragraphs(rendered: str) -> list[str]:
    text = rendered.replace("\r\n", "\n").replace("\r", "\n")
    return [part.strip() for part in _BLANK_LINES.split(text) if part.strip()]


def _html_paragraphs(rendered: str) -> list[Markup]:
    # ``rendered`` came out of an autoescaping render, so it is already safe HTML;
    # single line breaks inside a paragraph (an address, a list) are kept.
    return [
        Markup("<br>\n").join(Markup(line) for line in part.split("\n"))
        for part in _paragraphs(rendered)
    ]


def _block(env: Environment, name: str, block: str, context: dict[str, Any]) -> str:
    template = env.get_template(name)
    if block not in template.blocks:
        return ""
    return "".join(template.blocks[block](template.new_context(context))).strip()


def _effective_on(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date().isoformat()
    return str(value)


def _context(
    kind: str, payload: dict[str, Any], *, tenant_name: str, locale: str, builtin: str
) -> dict[str, Any]:
    missing = [key for key in KINDS[kind] if payload.get(key) in (None, "")]
    if missing:
        raise ValueError(f"a {kind} message needs {', '.join(missing)} in its payload")
    if kind == "subject_request.completed" and payload["status"] not in CLOSED_STATUSES:
        raise ValueError(f"a {kind} message is about a request {' or '.join(CLOSED_STATUSES)}")
    # Only the keys the kind knows: a webhook payload's extra keys must not shadow ours.
    context = {key: payload[key] for key in KINDS[kind]}
    # Absent optional values are "" so that "{{ note }}" in a tenant's text prints nothing.
    context.update({key: payload.get(key) or "" for key in OPTIONAL})
    labels = _TEXT.get_template(f"{builtin}/_frame.jinja").make_module({"tenant_name": ""})
    context.update(
        tenant_name=tenant_name,
        locale=locale,
        type_label=labels.request_types.get(context.get("type"), context.get("type")),
        kind_label=labels.policy_kinds.get(context.get("kind"), context.get("kind")),
    )
    if kind == "policy.material_change":
        # The day where the tenant counts days, when the notice was queued with it.
        context["effective_on"] = payload.get("effective_on") or _effective_on(
            payload["effective_at"]
        )
    return context


def _sandboxed(env: _Sandbox, source: str, context: dict[str, Any], where: str) -> str:
    if len(source) > MAX_OVERRIDE_CHARS:
        raise OverrideError(f"{where}: at most {MAX_OVERRIDE_CHARS} characters")
    try:
        refused = next(iter(env.parse(source).find_all(_REFUSED)), None)
        if refused is not None:
            raise OverrideError(f"{where}: {type(refused).__name__.lower()} is not allowed")
        return env.from_string(source).render(context).strip()
    except TemplateError as error:
        raise OverrideError(f"{where}: {error}") from error


def one_line(text: str) -> str:
    """Text for a header (a subject, a display name): a line break there would start a
    header of its own, and the e-mail library refuses to build one, so all whitespace,
    line breaks included, collapses to single spaces."""
    return " ".join(text.split())


def _page(*, lang: str, subject: str, **sections: list[Markup]) -> str:
    parts = {name: sections.get(name, []) for name in ("greeting", *_BLOCKS, "signoff")}
    return _HTML.get_template("_layout.html").render(lang=lang, subject=subject, **parts)


def render(
    *,
    kind: str,
    locale: str | None,
    payload: dict[str, Any],
    tenant_name: str,
    overrides: dict[str, dict[str, str]] | None = None,
) -> Rendered:
    """The e-mail for one outbox message, in the best locale we or the tenant have.

    ``overrides`` maps a locale to {"subject": template, "text": template}; either may
    be left out. An overriding text is the whole message, greeting and sign-off
    included, and the HTML part is made from it. Raises ValueError for an unknown kind
    or an incomplete payload, OverrideError (a ValueError) for an unusable override.
    """
    if kind not in KINDS:
        raise ValueError(f"no e-mail template for {kind!r}")
    own = {tag.replace("_", "-").lower(): parts for tag, parts in (overrides or {}).items()}
    # At each step of the chain the tenant's text wins over ours; a less specific
    # override does not beat a more specific built-in ("ru" reader, "en" override).
    # Charter's one negotiation (tenants/policies/locales.py), over the tenant's texts and
    # ours together: at each step the more specific tag wins, whoever wrote it.
    chosen = choose(requested=locale, available=[*own, *LOCALES], default=DEFAULT_LOCALE)
    override = own.get(chosen, {})
    builtin = choose(requested=chosen, available=LOCALES, default=DEFAULT_LOCALE)
    context = _context(kind, payload, tenant_name=tenant_name, locale=chosen, builtin=builtin)
    name = f"{builtin}/{kind}.jinja"

    if override.get("subject"):
        where = f"{chosen} subject"
        subject = _sandboxed(_SANDBOX_TEXT, override["subject"], context, where)
    else:
        subject = _block(_TEXT, name, "subject", context)

    if override.get("text"):
        text = _sandboxed(_SANDBOX_TEXT, override["text"], context, f"{chosen} text")
        if kind == "subject_request.verification" and str(payload["token"]) not in text:
            raise OverrideError(
                f"{chosen} text: the verification code ({{{{ token }}}}) is missing"
            )
        where = f"{chosen} text"
        main = _html_paragraphs(_sandboxed(_SANDBOX_HTML, override["text"], context, where))
        html = _page(lang=chosen, subject=one_line(subject), main=main)
        return Rendered(subject=one_line(subject), text=text + "\n", html=html, locale=chosen)

    frame = f"{builtin}/_frame.jinja"
    text_parts = [_block(_TEXT, frame, "greeting", context)]
    for block in _BLOCKS:
        text_parts.extend(_paragraphs(_block(_TEXT, name, block, context)))
    text_parts.append(_block(_TEXT, frame, "signoff", context))
    sections = {block: _html_paragraphs(_block(_HTML, name, block, context)) for block in _BLOCKS}
    html = _page(
        lang=chosen,
        subject=one_line(subject),
        greeting=_html_paragraphs(_block(_HTML, frame, "greeting", context)),
        signoff=_html_paragraphs(_block(_HTML, frame, "signoff", context)),
        **sections,
    )
    text = "\n\n".join(part for part in text_parts if part) + "\n"
    return Rendered(subject=one_line(subject), text=text, html=html, locale=chosen)


def check_overrides(*, kind: str, overrides: dict[str, dict[str, str]]) -> str | None:
    """Why a tenant's overrides for ``kind`` cannot be saved, or None: each locale's
    templates are tried on a sample message, so a mistake shows when it is made rather
    than when a person's e-mail fails to go out."""
    if kind not in KINDS:
        return f"no e-mail template for {kind!r}"
    for tag, parts in overrides.items():
        if set(parts) - {"subject", "text"}:
            return f"{tag}: only subject and text can be overridden"
        try:
            sample = SAMPLES[kind]
            render(kind=kind, locale=tag, payload=sample, tenant_name="T", overrides={tag: parts})
        except ValueError as error:
            return str(error)
    return None
