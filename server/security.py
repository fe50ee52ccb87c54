"""Response hardening for every answer, and stricter rules for HTML."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
# HTML that states no policy of its own (GraphiQL's and the site's pages do) runs nothing.
HTML = [
    (
        b"content-security-policy",
        b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k == b"content-type"), b"")
                headers.extend(ALWAYS)
                # A page that states its own, stricter policy (server.site) keeps it: two
                # CSP headers would both apply, and the fallback with it.
                own = any(k == b"content-security-policy" for k, _ in headers)
                if content_type.startswith(b"text/html") and not own:
                    headers.extend(HTML)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
