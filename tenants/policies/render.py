"""Policy bodies (Markdown or plain text) to sanitised HTML.

Most policies are pasted legal text, not Markdown, so one pipeline has to serve both:
CommonMark with a few source rewrites that stop it from reinterpreting plain text, then
an allow-list sanitiser. The sanitiser is the security boundary; the Markdown step may
emit anything (raw HTML included) because nothing it emits is trusted.
"""

from __future__ import annotations

import hashlib
import re

import nh3
from markdown_it import MarkdownIt

__all__ = ["content_hash", "render_html"]

ALLOWED_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 7)),
        "p",
        "br",
        "hr",
        "ul",
        "ol",
        "li",
        "strong",
        "em",
        "a",
        "blockquote",
        "code",
        "pre",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
# `rel` is absent on purpose: nh3 sets it itself and refuses it in this map.
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
# Removed together with their content: their text is code or an embedded document,
# never policy prose, and leaving it behind would show script source to readers.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math"}
)

_SANITISER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
    # The HTML is embedded in tenants' own pages, where a relative link (including
    # `//host/...`) resolves against a base we do not control.
    url_relative="deny",
    strip_comments=True,
)


def _markdown() -> MarkdownIt:
    # The "commonmark" preset has no typographer, smart quotes or replacements, so the
    # source's own quotes, dashes and Uzbek apostrophes reach the reader unchanged.
    md = MarkdownIt("commonmark", {"breaks": True, "html": True})
    md.enable("table")
    # Indented code blocks: pasted legal text is often indented, and a policy author
    # who wants code can still use a fence.
    md.disable("code")
    # markdown-it would leave `[x](javascript:...)` as literal text, source included;
    # letting every link through hands the URL decision to the sanitiser alone, which
    # then keeps the link text and drops the href.
    md.validateLink = lambda url: True
    return md


_MD = _markdown()

# A line that CommonMark would open an ordered list with ("5. Foo", "1) Foo"), possibly
# after blockquote or bullet markers. Lists renumber from their first item and hide the
# number from the text, so legal clause numbers are escaped to stay literal.
_ORDERED_MARKER = re.compile(r"^(\s*(?:>\s?)*(?:[-+*]\s+)*)(\d{1,9})([.)])(?=\s|$)")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICK_RUN = re.compile(r"`+")

# Plain-text policies separate clauses by single line breaks as often as by blank lines.
# A line that starts a numbered clause ("5.3.", "1.1 ", "2)") or follows a line ending a
# sentence starts a paragraph of its own; other single breaks stay line breaks (a wrapped
# line, a list of "•" items ending in ";"). Clause numbers: several levels with an
# optional final dot, or one level with "." or ")", so "2024 was" is not a clause.
_CLAUSE_START = re.compile(r"^\s*(?:\d{1,9}(?:\.\d{1,9})+\.?|\d{1,9}[.)])(?=\s|$)")
_SENTENCE_MARKS = frozenset(".!?\u2026\u3002\uff01\uff1f")  # and ellipsis, CJK full stops
_CLOSERS = "\"'\u00bb\u201d\u2019)]"  # a sentence may end inside quotes: ».» ”.” ).
# Lines that are Markdown's own blocks, or underline one (setext headings): never split.
_MARKDOWN_LINE = re.compile(
    r"^ {0,3}(?:[>|#<]|[-+*](?:\s|$)|=+\s*$|-+\s*$|(?:\*\s*){3,}$|(?:_\s*){3,}$)"
)


def _starts_paragraph(previous: str, line: str) -> bool:
    """Whether ``line``, right after ``previous`` in one block, begins a new paragraph."""
    if not previous.strip() or not line.strip():
        return False
    if _MARKDOWN_LINE.match(previous) or _MARKDOWN_LINE.match(line):
        return False
    ends_sentence = previous.rstrip().rstrip(_CLOSERS)[-1:] in _SENTENCE_MARKS
    return ends_sentence or bool(_CLAUSE_START.match(line))


def _escape_letter_backticks(line: str, open_len: int) -> tuple[str, int]:
    """Escape backticks used as letters, keeping Markdown code spans working.

    Uzbek Latin is often typed with ` for U+02BB and U+2019 ("o`zbek", "ma`lumot", "tog`"); two of
    those in one paragraph would otherwise pair up into a code span and vanish. A run
    right after a letter or digit cannot open a span in practice, so it is escaped
    unless it closes an open span. `open_len` is the length of the run that opened a
    span still open (spans may continue onto the next line of a paragraph), else 0.
    """
    out: list[str] = []
    last = 0
    for run in _BACKTICK_RUN.finditer(line):
        start, text = run.start(), run.group()
        before = line[start - 1] if start else " "
        out.append(line[last:start])
        last = run.end()
        if open_len:
            # Backslashes are literal inside a code span, so nothing there is escaped.
            if len(text) == open_len:
                open_len = 0
            out.append(text)
        elif before == "\\":
            out.append(text)
        elif before.isalnum():
            out.append("\\`" * len(text))
        else:
            open_len = len(text)
            out.append(text)
    out.append(line[last:])
    return "".join(out), open_len


def _protect_plain_text(body: str) -> str:
    """Rewrite the source so CommonMark keeps plain-text constructs as written."""
    lines: list[str] = []
    fence: str | None = None
    open_len = 0
    previous = ""
    for line in body.split("\n"):
        if fence is not None:
            # Inside a fence every character is literal, so nothing is rewritten.
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            lines.append(line)
            continue
        opened = _FENCE_OPEN.match(line)
        if opened:
            fence, open_len, previous = opened.group(1), 0, ""
            lines.append(line)
            continue
        if _starts_paragraph(previous, line):
            lines.append("")  # the blank line plain text left out
            open_len = 0
        previous = line
        if not line.strip():
            # A blank line ends the paragraph, and with it any unclosed code span.
            open_len = 0
        line = _ORDERED_MARKER.sub(r"\1\2\\\3", line, count=1)
        line, open_len = _escape_letter_backticks(line, open_len)
        lines.append(line)
    return "\n".join(lines)


def render_html(body: str) -> str:
    """Sanitised HTML for a Markdown or plain-text policy body.

    Blank-line separated blocks become paragraphs, and so does each line that starts a
    numbered clause or follows a line ending a sentence; other single newlines become
    <br>. Numbered clauses ("1.", "5.3.4.", "2)") keep their numbers as text. Markdown
    headings, bullet lists, emphasis, links, quotes, code and tables still render;
    ordered lists do not (their numbers stay as written).
    """
    source = body.replace("\r\n", "\n").replace("\r", "\n")
    html = _MD.render(_protect_plain_text(source))
    return _SANITISER.clean(html).strip()


def content_hash(body: str) -> str:
    """Hex SHA-256 of the UTF-8 body: identifies a policy version's exact text."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
