"""The banner's and privacy center's static files, built once at import.

"Building" is small on purpose: the banner script is its parts (static/consent/*.js, one
concern each) joined in name order into one function scope, it learns its stylesheet's
content-hashed name, and every file gets a content-hashed name of its own (served
immutable), a strong ETag and a gzipped copy. `charter assets` prints the sizes;
a test holds the script to the issue's limit (15 KB gzipped).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).with_name("static")
SCRIPT_LIMIT_GZIPPED = 15 * 1024
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str  # as written: "consent.js"
    hashed: str  # as served immutable: "consent.3f2a9c1b7d4e5f60.js"
    body: bytes
    gzipped: bytes
    media_type: str

    @property
    def etag(self) -> str:
        return '"' + self.hashed.split(".")[-2] + '"'


def asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:16]
    stem, dot, ext = name.rpartition(".")
    return Asset(
        name=name,
        hashed=f"{stem}.{digest}{dot}{ext}",
        body=body,
        # mtime=0: the same input gives the same bytes, run after run.
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        media_type=MEDIA["." + ext],
    )


def build() -> dict[str, Asset]:
    """Every asset by both its names."""
    built = {
        name: asset(name, (STATIC / name).read_bytes()) for name in ("banner.css", "center.css")
    }
    parts = sorted((STATIC / "consent").glob("*.js"))
    script = b"\n".join(part.read_bytes() for part in parts)
    script = script.replace(b"__BANNER_CSS__", built["banner.css"].hashed.encode())
    built["consent.js"] = asset("consent.js", script)
    return {key: item for item in built.values() for key in (item.name, item.hashed)}


ASSETS = build()


def report() -> list[str]:
    """One line per asset: its served name, its size and its gzipped size."""
    lines = []
    for name in ("consent.js", "banner.css", "center.css"):
        item = ASSETS[name]
        limit = f" (limit {SCRIPT_LIMIT_GZIPPED / 1024:.0f} KB)" if name == "consent.js" else ""
        lines.append(
            f"{item.hashed:<36} {len(item.body):>7,} B   gzipped {len(item.gzipped):>6,} B{limit}"
        )
    return lines
