"""Policy rendering: hostile input comes out inert, pasted legal text comes out as written."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenants.policies.render import content_hash, render_html

CORPUS = Path("/work/shared/corpus")
CORPUS_FILES = sorted(CORPUS.glob("*.txt")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not CORPUS_FILES, reason=f"no policy corpus in {CORPUS}")

# Line-initial clause numbers as policies write them: "1.", "1.1", "5.3.4.", "2)".
CLAUSE = re.compile(r"^\s*(\d+(?:\.\d+)*[.)]?)\s", re.MULTILINE)
# Uzbek Latin's apostrophes, spelled as escapes since they look alike (U+02BB okina,
# U+02BC, U+2019 and U+2018 quotes), plus the ASCII stand-in `.
OKINA, MODIFIER, RIGHT_QUOTE, LEFT_QUOTE = "\u02bb", "\u02bc", "\u2019", "\u2018"
UZBEK_MARKS = (OKINA, MODIFIER, RIGHT_QUOTE, LEFT_QUOTE, "`")


def visible_text(rendered: str) -> str:
    """What a reader sees: tags gone, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())


def squeeze(text: str) -> str:
    return " ".join(text.split())


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "text <img src=x onerror=alert(1)> more",
    "[x](javascript:alert(1))",
    "[x](JavaScript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href=" jAvAsCrIpT:alert(1)">click</a>',
    '<a href="java&#x09;script:alert(1)">click</a>',
    '<a href="#" onclick="alert(1)">click</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)></svg>",
    "<object data='javascript:alert(1)'></object>",
    "<form action='javascript:alert(1)'><button>go</button></form>",
    "<!-- <script>alert(1)</script> -->",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_bodies_are_inert(body: str) -> None:
    rendered = render_html(body).lower()
    for needle in ("<script", "onerror", "onload", "onclick", "javascript:", "<iframe"):
        assert needle not in rendered, (needle, rendered)
    # Text such as "data:" may remain visible when a construct fails to parse; what
    # must never survive is an element or attribute that could load or run it.
    for needle in ("<style", "style=", "src=", 'href="data:', "<img", "<svg", "<object"):
        assert needle not in rendered, (needle, rendered)
    assert "<form" not in rendered


@pytest.mark.parametrize(
    "body",
    [
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    ],
)
def test_data_urls_are_dropped(body: str) -> None:
    assert "data:" not in render_html(body).lower()


def test_hostile_link_keeps_its_text_but_loses_the_href() -> None:
    rendered = render_html("[read me](javascript:alert(1))")
    assert "read me" in rendered
    assert "href" not in rendered


def test_safe_links_keep_href_and_get_rel() -> None:
    rendered = render_html(
        '[site](https://example.com "Home") [web](http://example.com) <mailto:dpo@example.com>'
    )
    assert '<a href="https://example.com" title="Home" rel="noopener noreferrer nofollow">' in (
        rendered
    )
    assert 'href="http://example.com"' in rendered
    assert 'href="mailto:dpo@example.com"' in rendered
    assert rendered.count('rel="noopener noreferrer nofollow"') == 3


@pytest.mark.parametrize("url", ["/relative", "//evil.example/x", "ftp://example.com/f"])
def test_other_urls_are_dropped(url: str) -> None:
    rendered = render_html(f"[x]({url})")
    assert "href" not in rendered
    assert ">x</a>" in rendered


def test_blank_lines_make_paragraphs_and_newlines_make_breaks() -> None:
    rendered = render_html("First line\nsecond line\n\nSecond paragraph\r\n\r\nThird")
    assert rendered.count("<p>") == 3
    assert "First line<br>" in rendered
    assert "<p>Second paragraph</p>" in rendered


def test_numbered_clauses_are_not_lists() -> None:
    body = "1. General\n\n1.1. Scope\n5.3.4. Deep clause\n\n5. Fifth\n2) Paren\n\n3. Three\n1. One"
    rendered = render_html(body)
    assert "<ol" not in rendered and "<li" not in rendered
    text = visible_text(rendered)
    for number in ("1. General", "1.1. Scope", "5.3.4. Deep", "5. Fifth", "2) Paren"):
        assert number in text
    # The source order "3." then "1." survives: a list would have renumbered it.
    assert "3. Three 1. One" in text


def test_numbered_clause_inside_fence_is_untouched() -> None:
    rendered = render_html("```\n1. literal\no`zbek\n```")
    assert "<pre><code>1. literal\no`zbek\n</code></pre>" in rendered


def test_markdown_heading_list_and_emphasis_still_render() -> None:
    body = "# Privacy\n\n## Data we keep\n\n- e-mail\n- phone\n\nWe **never** sell *anything*."
    rendered = render_html(body)
    assert "<h1>Privacy</h1>" in rendered
    assert "<h2>Data we keep</h2>" in rendered
    assert re.search(r"<ul>\s*<li>e-mail</li>\s*<li>phone</li>\s*</ul>", rendered)
    assert "<strong>never</strong>" in rendered and "<em>anything</em>" in rendered


def test_markdown_blockquote_code_table_and_rule() -> None:
    body = "> quoted\n\nUse `code` here.\n\n---\n\n| a | b |\n|---|:-:|\n| 1 | 2 |"
    rendered = render_html(body)
    assert "<blockquote>" in rendered and "<code>code</code>" in rendered
    assert "<hr>" in rendered
    assert "<table>" in rendered and "<th>b</th>" in rendered and "<td>2</td>" in rendered


def test_indented_text_is_not_code() -> None:
    rendered = render_html("Intro\n\n    indented clause text")
    assert "<pre" not in rendered and "<code" not in rendered
    assert "indented clause text" in rendered


def test_no_typographic_replacements() -> None:
    body = (
        f"\"Quotes\" and 'single' -- (c) (tm) ... +- "
        f"o{LEFT_QUOTE}zbek ma{RIGHT_QUOTE}lumot O{OKINA}zbekiston"
    )
    assert visible_text(render_html(body)) == body


def test_backtick_apostrophes_do_not_become_code() -> None:
    body = "tog` va bog` hamda o`zbek ma`lumot, but `code` stays code"
    rendered = render_html(body)
    assert rendered.count("<code>") == 1 and "<code>code</code>" in rendered
    assert visible_text(rendered) == body.replace("`code`", "code")


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name)
def test_corpus_keeps_every_clause_number(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    rendered = render_html(source)
    text = visible_text(rendered)
    assert "<ol" not in rendered
    clauses = CLAUSE.findall(source)
    assert clauses, "corpus file should have numbered clauses"
    for line in source.splitlines():
        match = CLAUSE.match(line + " ")
        if match:
            # The number followed by the start of its clause, exactly as in the source.
            assert squeeze(line)[:40] in text, line


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name)
def test_corpus_text_survives_verbatim(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    text = visible_text(render_html(source))
    # Only Markdown bullet markers ("- item") may disappear, into <li> elements.
    expected = squeeze(re.sub(r"^\s*[-+*]\s+", "", source, flags=re.MULTILINE))
    assert text == expected
    for mark in UZBEK_MARKS:
        assert text.count(mark) == source.count(mark), mark
    cyrillic = re.findall(r"[\u0400-\u04ff]", source)
    assert re.findall(r"[\u0400-\u04ff]", text) == cyrillic


@needs_corpus
def test_corpus_paragraphs_become_paragraphs() -> None:
    source = (CORPUS / "deepen.uz.txt").read_text(encoding="utf-8")
    rendered = render_html(source)
    assert "<p>1. Umumiy qoidalar</p>" in rendered
    assert f"1.1.1. Ro{LEFT_QUOTE}yxatdan" in rendered
    assert "shunga o`xshash" in rendered
    assert rendered.count("<p>") >= source.count("\n\n") - 1


def test_empty_body_renders_empty() -> None:
    assert render_html("") == ""
    assert render_html("\n\n  \n") == ""


def test_content_hash_is_sha256_of_utf8() -> None:
    body = f"O{OKINA}zbekiston — Политика"
    assert content_hash(body) == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert len(content_hash("")) == 64
    assert content_hash("a") != content_hash("a ")


# Plain text with single line breaks (issue 15): a line that starts a numbered clause, or
# follows a line ending a sentence, starts a paragraph; other breaks stay <br>.


def paragraphs(rendered: str) -> list[str]:
    return [visible_text(p) for p in re.findall(r"<p>(.*?)</p>", rendered, re.DOTALL)]


def test_clauses_on_single_lines_are_paragraphs_not_one_block_of_breaks() -> None:
    body = "\n".join(
        f"{i}.{j}. Clause text number {i}.{j} of the policy"
        for i in (1, 2, 3)
        for j in range(1, 10)
    )
    rendered = render_html(body)
    assert "<br>" not in rendered
    assert len(paragraphs(rendered)) == 27
    assert paragraphs(rendered)[9] == "2.1. Clause text number 2.1 of the policy"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The README's numbered forms, each after a line that does not end a sentence.
        ("Scope:\n1.1. First", ["Scope:", "1.1. First"]),
        ("Scope:\n5.3.4. Deep", ["Scope:", "5.3.4. Deep"]),
        ("Scope:\n1) One\n2) Two", ["Scope:", "1) One", "2) Two"]),
        (
            "Data we get from third parties\n1.1 Data",
            ["Data we get from third parties", "1.1 Data"],
        ),
        # A line after a sentence's end, closing quotes and brackets included.
        ("We collect data.\nWe keep it safe!", ["We collect data.", "We keep it safe!"]),
        ("He said «enough.»\nNext", ["He said «enough.»", "Next"]),
        ("(See section 4.)\nNext", ["(See section 4.)", "Next"]),
        ("Bizning maqsad nima?\nJavob", ["Bizning maqsad nima?", "Javob"]),
    ],
)
def test_a_clause_or_a_sentence_end_starts_a_paragraph(body: str, expected: list[str]) -> None:
    rendered = render_html(body)
    assert paragraphs(rendered) == expected
    assert "<br>" not in rendered


@pytest.mark.parametrize(
    "body",
    [
        "This sentence is wrapped\nacross two lines.",  # a wrapped line
        "We collect, among others:\n  • your e-mail;\n  • your name.",  # items of one list
        "In 2024 we moved\n2024 was the year",  # a year is not a clause number
    ],
)
def test_other_single_breaks_stay_line_breaks(body: str) -> None:
    rendered = render_html(body)
    assert len(paragraphs(rendered)) == 1 and "<br>" in rendered


def test_markdown_blocks_keep_their_shape() -> None:
    rendered = render_html("Intro.\n- one.\n- two.\n\nTitle.\n---\n\n| a |\n|---|\n| b. |\n| c |")
    assert re.search(r"<ul>\s*<li>one.</li>\s*<li>two.</li>\s*</ul>", rendered)
    assert "<h2>Title.</h2>" in rendered  # a setext underline is not split from its text
    assert "<td>b.</td>" in rendered and "<td>c</td>" in rendered


clause_numbers = st.lists(st.integers(1, 99), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts)) + ("." if len(parts) == 1 else "")
)
words = st.lists(
    st.sampled_from(["data", f"ma{RIGHT_QUOTE}lumot", "данные", "o`zbek", "we", "keep"]),
    min_size=1,
    max_size=6,
)


@given(
    st.lists(
        st.tuples(clause_numbers, words, st.sampled_from(["", ".", ";", ":"])),
        min_size=1,
        max_size=30,
    )
)
def test_any_run_of_single_line_clauses_renders_one_paragraph_each(clauses) -> None:
    lines = [f"{number} {' '.join(text)}{end}" for number, text, end in clauses]
    rendered = render_html("\n".join(lines))
    assert paragraphs(rendered) == [squeeze(line) for line in lines]
    assert "<ol" not in rendered and "<br>" not in rendered


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name)
def test_corpus_clause_lines_each_open_a_paragraph(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    starts = [p[:30] for p in paragraphs(render_html(source))]
    for line in source.splitlines():
        if re.match(r"^\s*(?:\d+(?:\.\d+)+\.?|\d+[.)])\s", line):
            assert squeeze(line)[:30] in starts, line
