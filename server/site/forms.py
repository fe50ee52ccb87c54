"""What the privacy center's forms do when posted: change consent choices, send a
data-subject request, confirm it with the e-mailed code. Each runs the public API's own
mutation (server.site.operations), behind the form token (server.site.csrf), and
answers with a page: a redirect after a change (so a reload repeats nothing), the form
again with the problem beside it, or the confirmation with the due date."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from server.site import csrf, operations, record
from server.site.center import KIND, Context, context, finish, show
from server.site.pages import render
from server.site.visits import Visit, not_found, visit
from tenants.branding.rights import rights_offered
from tenants.policies.catalog import catalog
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import local_day
from tenants.validation import whole_number

MAX_FORM_BYTES = 64 * 1024
EVENT = re.compile(r"^ce_[0-9a-f]{32}$")
# The codes a visitor gets words for (texts "error.*"); anything else is GENERIC.
SHOWN = {"INVALID_EMAIL", "REQUIRED", "INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_LOCKED"}
HOST = re.compile(r"^[a-z0-9.-]+(:\d{1,5})?$")


class BadForm(Exception):
    pass


async def read_form(request: Request) -> dict[str, list[str]]:
    """An urlencoded form, bounded, without NUL (no database stores it)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise BadForm
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise BadForm
    except ClientDisconnect:
        raise BadForm from None  # gone mid-body: answered (to no one), not a server failure
    fields: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=300)
    except (UnicodeDecodeError, ValueError):
        raise BadForm from None
    for name, value in pairs:
        if "\x00" in value:
            raise BadForm
        fields.setdefault(name, []).append(value)
    return fields


def _one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


async def _start(request: Request, document: str):
    """(visit, context, form) or the response that ends the request."""
    found = await visit(request, document=document)
    if not isinstance(found, Visit):
        return found
    try:
        form = await read_form(request)
    except BadForm:
        return PlainTextResponse("Bad form", status_code=400)
    ctx = await context(request, found, _one(form, "lang") or None)
    return found, ctx, form


def _token_ok(request: Request, found: Visit, form) -> bool:
    return csrf.allowed(request, site=found.site, host=found.place.host, sent=_one(form, "csrf"))


def _code(user_errors: list[dict]) -> str:
    code = user_errors[0]["code"] if user_errors else "GENERIC"
    return code if code in SHOWN else "GENERIC"


def _center_url(found: Visit, ctx: Context, suffix: str = "") -> str:
    return f"{found.place.base}/privacy?lang={quote(ctx.page.locale)}{suffix}"


async def choices(request: Request) -> Response:
    started = await _start(request, operations.RECORD)
    if isinstance(started, Response):
        return started
    found, ctx, form = started
    if not _token_ok(request, found, form):
        return await show(request, found, ctx, errors={"choices": "FORM_EXPIRED"}, status=403)
    versions = await catalog(tenant=found.tenant, cache=request.app.state.cache)
    version = whole_number(_one(form, "version"))
    facts = versions.get(KIND, version) if version is not None else None
    event = _one(form, "event")
    if facts is None or not EVENT.match(event):
        return await show(request, found, ctx, errors={"choices": "GENERIC"}, status=422)
    chosen = set(form.get("purpose") or [])
    asked = [p["key"] for p in facts.disclosures.get("purposes", []) if p.get("requires_consent")]
    mine = record.read(request)
    subject = mine.subject if mine else record.new_subject()
    decisions = [{"purpose": key, "granted": key in chosen} for key in asked]
    input_ = {
        "subjectId": subject,
        "decisions": decisions,
        "policyVersion": facts.number,
        "locale": _one(form, "locale") or None,
        "method": "FORM",
        # The page's event id, made this subject's and this choice's: a repost of the same
        # form is one event; another choice, or a new subject, is a new one.
        "clientEventId": csrf.event_id(
            request, site=found.site, value=event, state=f"{subject}:{sorted(chosen & set(asked))}"
        ),
    }
    if HOST.match(found.place.origin.partition("://")[2]):
        input_["sourceUrl"] = f"{found.place.origin}{found.place.base}/privacy"
    try:
        data = await operations.run(
            request, tenant=found.tenant, document=operations.RECORD, variables={"input": input_}
        )
    except operations.OperationFailed:
        return await show(request, found, ctx, errors={"choices": "GENERIC"}, status=422)
    payload = data["recordConsent"]
    if payload["userErrors"] or not payload["receipt"]:
        return await show(request, found, ctx, errors={"choices": "GENERIC"}, status=422)
    receipt = payload["receipt"]
    decided = {d["purpose"]: d["granted"] for d in receipt["decisions"]}
    # Decisions the form did not ask about (a signal's opt-outs) stay as they were.
    earlier_granted = (mine.granted if mine else frozenset()) - set(decided)
    earlier_refused = (mine.refused if mine else frozenset()) - set(decided)
    kept = record.Record(
        subject=subject,
        version=receipt["policyVersion"],
        locale=receipt["locale"] or "",
        granted=earlier_granted | {k for k, v in decided.items() if v},
        refused=earlier_refused | {k for k, v in decided.items() if not v},
        chosen=True,
        method="FORM",
        receipt=receipt["id"],
    )
    response = RedirectResponse(_center_url(found, ctx, "&saved=1#choices"), status_code=303)
    record.write(response, kept, path=found.place.cookie_path, secure=found.place.secure)
    return finish(response, ctx, found)


async def submit(request: Request) -> Response:
    started = await _start(request, operations.SUBMIT)
    if isinstance(started, Response):
        return started
    found, ctx, form = started
    kind = _one(form, "type")
    promised = (ctx.current.disclosures.get("rights") or []) if ctx.current else []
    offered = {right.value for right in rights_offered(found.tenant, promised)}
    if kind not in offered:
        return PlainTextResponse("Bad form", status_code=400)
    email = _one(form, "email")
    values = {kind: email}
    if not _token_ok(request, found, form):
        return await show(
            request, found, ctx, errors={kind: "FORM_EXPIRED"}, values=values, status=403
        )
    variables = {
        "input": {
            "type": kind,
            "email": email or None,
            "details": _one(form, "details") or None,
            "locale": ctx.page.locale,
        }
    }
    try:
        data = await operations.run(
            request, tenant=found.tenant, document=operations.SUBMIT, variables=variables
        )
    except operations.OperationFailed:
        return await show(request, found, ctx, errors={kind: "GENERIC"}, values=values, status=422)
    payload = data["submitSubjectRequest"]
    if payload["userErrors"] or not payload["subjectRequest"]:
        errors = {kind: _code(payload["userErrors"])}
        return await show(request, found, ctx, errors=errors, values=values, status=422)
    request_id = payload["subjectRequest"]["id"]
    target = f"{found.place.base}/privacy/requests/{request_id}?lang={quote(ctx.page.locale)}"
    return finish(RedirectResponse(target, status_code=303), ctx, found)


def _request_id(request: Request) -> str | None:
    try:
        return str(uuid.UUID(request.path_params["request_id"]))
    except ValueError:
        return None


async def verification(request: Request) -> Response:
    """The form that asks for the e-mailed code (it says nothing of the request)."""
    request_id = _request_id(request)
    if request_id is None:
        return not_found()
    found = await visit(request)
    if not isinstance(found, Visit):
        return found
    ctx = await context(request, found, request.query_params.get("lang"))
    return _verify_page(request, found, ctx, request_id)


def _verify_page(request, found, ctx, request_id, *, error: str | None = None, status=200):
    token = csrf.token(request, site=found.site, value=ctx.csrf_value)
    response = render(
        request, ctx.page, "verify.html", status=status, request_id=request_id, csrf=token,
        error=error,
    )  # fmt: skip
    return finish(response, ctx, found)


async def verify(request: Request) -> Response:
    request_id = _request_id(request)
    if request_id is None:
        return not_found()
    started = await _start(request, operations.VERIFY)
    if isinstance(started, Response):
        return started
    found, ctx, form = started
    if not _token_ok(request, found, form):
        return _verify_page(request, found, ctx, request_id, error="FORM_EXPIRED", status=403)
    code = _one(form, "code")
    try:
        data = await operations.run(
            request,
            tenant=found.tenant,
            document=operations.VERIFY,
            variables={"id": request_id, "token": code},
        )
    except operations.OperationFailed:
        return _verify_page(request, found, ctx, request_id, error="GENERIC", status=422)
    payload = data["verifySubjectRequest"]
    if payload["userErrors"] or not payload["subjectRequest"]:
        error = _code(payload["userErrors"])
        return _verify_page(request, found, ctx, request_id, error=error, status=422)
    verified = payload["subjectRequest"]
    law = JURISDICTIONS.get(verified["jurisdiction"])
    moment = datetime.fromisoformat(verified["dueAt"])
    due = (
        local_day(moment, law, found.tenant.main_establishment)
        if law
        else moment.astimezone(ZoneInfo(ctx.page.timezone)).date()
    )
    response = render(
        request, ctx.page, "confirmed.html", request_id=request_id,
        request_type=verified["type"], due=due.isoformat(),
    )  # fmt: skip
    return finish(response, ctx, found)
