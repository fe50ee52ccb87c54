"""The consent banner and the privacy center, served by Charter itself under `/t/SITE/`.

  /t/SITE/consent.js                      the banner script tenants paste (fixed path)
  /t/SITE/assets/NAME.HASH.EXT            its stylesheet, the center's, hashed: immutable
  /t/SITE/privacy                         the privacy center (GET; ?lang=, ?version=)
  /t/SITE/privacy/choices                 POST: change consent choices
  /t/SITE/privacy/requests                POST: send a data-subject request
  /t/SITE/privacy/requests/ID             GET/POST: confirm it with the e-mailed code

SITE is the tenant's slug or one of its domains, as for `publishedPolicy(site:)`. Every
route is rate-limited like the API (server.site.charge) and answers with validators.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from server.site import center, files, forms


def routes() -> list[BaseRoute]:
    return [
        Route("/t/{site}/consent.js", files.script, methods=["GET"]),
        Route("/t/{site}/assets/{name}", files.asset, methods=["GET"]),
        Route("/t/{site}/privacy", center.page, methods=["GET"]),
        Route("/t/{site}/privacy/choices", forms.choices, methods=["POST"]),
        Route("/t/{site}/privacy/requests", forms.submit, methods=["POST"]),
        Route("/t/{site}/privacy/requests/{request_id}", forms.verification, methods=["GET"]),
        Route("/t/{site}/privacy/requests/{request_id}", forms.verify, methods=["POST"]),
    ]
