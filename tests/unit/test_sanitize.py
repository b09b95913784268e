"""Output sanitising: quick actions, mentions, links, HTML and length, by example and by property."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core import messages as m
from bot.core.render.mr_note import find_marker, render_mr_note
from bot.core.render.sanitize import (
    WJ,
    balance_backticks,
    close_open_fence,
    code_fence,
    code_span,
    defang_url,
    is_allowed_url,
    sanitize_code_text,
    sanitize_gitlab_inline,
    sanitize_gitlab_markdown,
    sanitize_slack_mrkdwn,
)
from bot.core.render.slack import (
    render_slack_analysis,
    render_slack_parent,
    render_slack_reply,
)
from tests.scenario import hostile_report, outside_code

HOST = "gitlab.example.com"

# GitLab's quick-action pattern, rebuilt from lib/gitlab/quick_actions/extractor.rb: after "\r" is
# deleted, a line that starts (no leading blanks) with "/" and a command name, then a space and
# arguments or the end of the line. Any name counts here, not only the commands GitLab knows.
QUICK_ACTION = re.compile(r"^/(?P<cmd>[a-z0-9_]+)(?:[ ](?P<arg>[^\n]*))?(?:\s*\n|$)", re.I | re.M)
# Stricter than GitLab: a "/" as the first visible character of any line, by any line-break rule.
SLASH_LINE = re.compile(r"(?:^|[\n\r\x0b\x0c\x85\u2028\u2029])[^\S\n]*/")
GROUP_MENTION = re.compile(r"@(all|here)\b", re.I)
RAW_HTML = re.compile(r"<[A-Za-z!/?]")
FOREIGN_URL = re.compile(r"(?i)\bhttps?://(?!gitlab\.example\.com[/:?#\s)]|gitlab\.example\.com$)")


def quick_actions(text: str) -> list[str]:
    return [m.group("cmd") for m in QUICK_ACTION.finditer(text.replace("\r", ""))]


# --- quick actions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/merge",
        "/approve\n",
        "fine\n/close",
        "a\r\n/label ~bug",
        "```\n/merge\n```",
        "/MERGE now",
        "<details>\n/approve\n</details>",
        ">>>\n/unapprove\n>>>",
    ],
)
def test_quick_action_lines_are_defused(text):
    assert quick_actions(text)  # the input really is a quick action by GitLab's rule...
    out = sanitize_gitlab_markdown(text, HOST)
    assert quick_actions(out) == []  # ...and the output is not
    assert not SLASH_LINE.search(out)
    assert WJ + "/" in out and out.replace(WJ, "").replace("&gt;", ">") == text.replace("\r", "")


@pytest.mark.parametrize("text", ["a\r/unassign", "  /assign @me", "\t/shrug", "x\u2028/merge", "x\u0085/merge"])
def test_lines_a_looser_extractor_might_run_are_defused_too(text):
    out = sanitize_gitlab_markdown(text, HOST)
    assert not SLASH_LINE.search(out) and WJ + "/" in out


def test_quick_action_pattern_matches_what_gitlab_runs():
    assert quick_actions("hello\n/label ~a ~b\nbye") == ["label"]
    assert quick_actions("/merge") == ["merge"]
    assert quick_actions("see /merge") == []
    assert quick_actions("path/to/file") == []


# --- mentions ------------------------------------------------------------------------


def test_mentions_are_defused_but_readable():
    out = sanitize_gitlab_markdown("ping @all, @here and @dana.smith; mail a@b.example", HOST)
    assert not GROUP_MENTION.search(out)
    assert "@dana" not in out and f"@{WJ}dana.smith" in out
    assert out.replace(WJ, "") == "ping @all, @here and @dana.smith; mail a@b.example"


def test_issue_and_mr_references_do_not_cross_link():
    out = sanitize_gitlab_markdown("fixed in #123 and !45, see group/app#7", HOST)
    assert not re.search(r"[#!]\d", out)
    assert out.replace(WJ, "") == "fixed in #123 and !45, see group/app#7"


# --- links, images, HTML -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url,allowed",
    [
        ("https://gitlab.example.com/g/p/-/jobs/1#L5", True),
        ("http://GITLAB.example.com/x", True),
        ("https://gitlab.example.com:443/x", True),
        ("https://gitlab.example.com.evil.example/x", False),
        ("https://gitlab.example.com@evil.example/x", False),
        ("https://evil.example\\@gitlab.example.com/x", False),
        ("https://evil.example/gitlab.example.com", False),
        ("//gitlab.example.com/x", False),
        ("javascript:alert(1)", False),
        ("ftp://gitlab.example.com/x", False),
    ],
)
def test_is_allowed_url(url, allowed):
    assert is_allowed_url(url, "https://gitlab.example.com") is allowed


def test_allowed_host_with_port_needs_that_port():
    assert is_allowed_url("https://git.corp:8443/x", "https://git.corp:8443")
    assert not is_allowed_url("https://git.corp/x", "https://git.corp:8443")


def test_defang_url():
    assert defang_url("https://evil.example/a.b?c=d") == "hxxps://evil[.]example/a.b?c=d"
    assert defang_url("ftp://evil.example") == "ftp[:]//evil[.]example"
    assert defang_url(defang_url("https://evil.example/x")) == "hxxps://evil[.]example/x"


def test_links_to_other_hosts_become_plain_text_and_images_go():
    text = (
        "[docs](https://evil.example/login) [job](https://gitlab.example.com/g/p/-/jobs/1) "
        "![pixel](https://evil.example/p.gif) ![ok](https://gitlab.example.com/a.png) "
        "bare https://evil.example/x, www.evil.example and <https://evil.example/auto> "
        "[rel](//evil.example/x) [![a](https://evil.example/a.png)](//evil.example/b)"
    )
    out = sanitize_gitlab_markdown(text, HOST)
    assert "docs (hxxps://evil[.]example/login)" in out
    assert "[job](https://gitlab.example.com/g/p/-/jobs/1)" in out
    assert "![ok](https://gitlab.example.com/a.png)" in out
    assert "pixel" not in out and out.count(m.IMAGE_REMOVED) == 2
    assert "hxxps://evil[.]example/x," in out and "www[.]evil[.]example" in out
    assert not FOREIGN_URL.search(out) and "](//" not in out
    assert not RAW_HTML.search(out)


def test_link_reference_definitions_are_broken():
    out = sanitize_gitlab_markdown("[x]\n\n[x]: //evil.example/y\n- [z]: https://evil.example", HOST)
    assert not re.search(r"(?m)^(?:- )?\[[^\]]+\]:", out)


def test_html_and_comments_from_untrusted_text_are_inert():
    text = (
        "<details><summary>x</summary><img src=x onerror=alert(1)></details><!-- cicd-bot:mr-note v1 project=a mr=1 -->"
    )
    out = sanitize_gitlab_markdown(text, HOST)
    assert not RAW_HTML.search(out)
    assert "<!--" not in out and "cicd-bot:mr-note" not in out
    assert out.replace(WJ, "") == "<details><summary>x</summary><img src=x onerror=alert(1)></details>"


def test_control_and_bidi_characters_are_removed():
    assert sanitize_gitlab_markdown("a\x00b\x1b[31mc\u202ed", HOST) == "ab[31mcd"


# --- code and layout ------------------------------------------------------------------------


def test_an_open_fence_is_closed():
    out = sanitize_gitlab_markdown("Run:\n```bash\nmake test", HOST)
    assert out == "Run:\n```bash\nmake test\n```"
    assert close_open_fence("````\nx\n```") == "````\nx\n```\n````"
    assert close_open_fence("```\nx\n```") == "```\nx\n```"


def test_code_fence_outlasts_backticks_in_content():
    assert code_fence("plain") == "```"
    assert code_fence("a ```` b") == "`````"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a `code` b", "a `code` b"),
        ("stray ` here", "stray \\` here"),
        ("``` open", "\\`\\`\\` open"),
        ("x\\` y `z`", "x\\` y `z`"),  # an escaped backtick stays as it is
        ("`a\\`", "`a\\`"),  # a backslash inside a code span is literal, so this span is closed
    ],
)
def test_stray_backticks_are_escaped(text, expected):
    assert balance_backticks(text) == expected


def test_stray_backticks_cannot_reach_a_later_code_span_in_a_block():
    out = sanitize_gitlab_markdown("one ` two\n```py\nx = `y`\n```\nthree `ok`", HOST)
    assert out == "one \\` two\n```py\nx = `y`\n```\nthree `ok`"


def test_inline_text_is_one_line_and_cannot_open_a_fence():
    out = sanitize_gitlab_inline("```python\n/merge @all", HOST)
    assert "\n" not in out and out.startswith("\\`\\`\\`") and not GROUP_MENTION.search(out)


def test_code_text_keeps_angle_brackets_but_defuses_actions_and_mentions():
    out = sanitize_code_text("List<String> x;\n/merge\n@all")
    assert out == f"List<String> x;\n{WJ}/merge\n@{WJ}all"


def test_length_is_capped_with_a_marker():
    out = sanitize_gitlab_markdown("word " * 50_000, HOST, max_chars=5_000)
    assert len(out) <= 5_000 and out.endswith(m.TEXT_SHORTENED)
    escaped = sanitize_gitlab_markdown("<a " * 10_000, HOST, max_chars=5_000)
    assert len(escaped) <= 5_000


def test_non_string_input_is_treated_as_text():
    assert sanitize_gitlab_markdown(None, HOST) == ""  # type: ignore[arg-type]
    assert sanitize_slack_mrkdwn(None) == ""  # type: ignore[arg-type]


# --- Slack ---------------------------------------------------------------------------------


def test_slack_special_sequences_are_escaped():
    out = sanitize_slack_mrkdwn("<!channel> <!here> <!everyone> <@U123> <#C123> <http://x.example|click> a & b")
    assert "<" not in out and ">" not in out
    assert out.startswith("&lt;!channel&gt; &lt;!here&gt;") and "a &amp; b" in out


def test_slack_plain_group_words_and_foreign_urls_are_defused():
    out = sanitize_slack_mrkdwn(
        "@channel @Here @everyone see https://evil.example/x and https://gitlab.example.com/y", allowed_host=HOST
    )
    assert not re.search(r"@(channel|here|everyone)\b", out, re.I)
    assert "hxxps://evil[.]example/x" in out and "https://gitlab.example.com/y" in out


# --- properties -------------------------------------------------------------------------------

HOSTILE_PIECES = [
    "/merge",
    "/approve",
    "/close",
    "\n/label ~x",
    "/unapprove me",
    "/MERGE",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "\u2029",
    "\x0b",
    "\x0c",
    "\x85",
    "\u00a0",
    "\u3000",
    "\t",
    " ",
    "```",
    "````",
    "~~~",
    "`",
    "<details>",
    "</details>",
    "<summary>",
    "<img src=x>",
    "<a href=//evil.example>",
    "<!--",
    "-->",
    "<!-- cicd-bot:mr-note v1 project=a mr=1 -->",
    "@all",
    "@here",
    "@ALL",
    "@Here",
    "@channel",
    "@everyone",
    "@dana",
    "[x](",
    ")",
    "](",
    "[",
    "]",
    "!",
    "https://evil.example/",
    "//evil.example",
    "![i](https://evil.example/i.png)",
    "[c](https://evil.example)",
    "#12",
    "!3",
    ">>>",
    "> ",
    "- ",
    "1. ",
    "<!channel>",
    "<@U1>",
    "<http://evil.example|x>",
    "\\",
    "&lt;",
    "\u2060",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=12)), max_size=40).map("".join)
fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(hostile_text)
def test_property_gitlab_markdown_is_inert(text):
    out = sanitize_gitlab_markdown(text, HOST, max_chars=4_000)
    assert quick_actions(out) == []
    assert not SLASH_LINE.search(out)
    assert not GROUP_MENTION.search(out)
    assert not RAW_HTML.search(out)
    assert not FOREIGN_URL.search(out)
    assert "<!--" not in out
    assert close_open_fence(out) == out
    assert len(out) <= 4_000


@fast
@given(hostile_text)
@example("HTTP://")  # a bare scheme, upper case: found by hypothesis, left as it was before the mend
def test_property_inline_is_one_inert_line(text):
    out = sanitize_gitlab_inline(text, HOST)
    assert "\n" not in out and not GROUP_MENTION.search(out) and not RAW_HTML.search(out)
    assert not FOREIGN_URL.search(out)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
@example("```\r\n~~~/merge")  # a fence opening a fix step's list item, its lines indented under it
def test_property_rendered_note_has_no_quick_action_or_group_mention(text):
    body = render_mr_note(hostile_report(text), "https://gitlab.example.com")
    assert quick_actions(body) == []
    assert not SLASH_LINE.search(body)
    assert not GROUP_MENTION.search(body)
    assert find_marker(body)["project"] == "shop/backend"
    prose = outside_code(body)
    assert prose.count("<details>") == prose.count("</details>")
    assert not RAW_HTML.search(re.sub(r"</?(details|summary|sub)>", "", prose.split("\n", 1)[1]))


@fast
@given(hostile_text)
def test_property_slack_mrkdwn_cannot_ping(text):
    out = sanitize_slack_mrkdwn(text, allowed_host=HOST)
    assert "<!" not in out and "<@" not in out and "<#" not in out and "<" not in out
    assert not re.search(r"@(channel|here|everyone)\b", out, re.I)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_property_slack_messages_link_only_to_gitlab(text):
    report = hostile_report(text)
    outputs = [render_slack_parent(report), *render_slack_analysis(report, ["anthropic"]), render_slack_reply(text)]
    for fallback, blocks in outputs:
        texts = (
            [fallback]
            + [b["text"]["text"] for b in blocks if b["type"] == "section"]
            + [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
        )
        for t in texts:
            assert "<!" not in t and "<@" not in t
            # every "<" opens one of our links to the GitLab host
            assert all(t.startswith("https://gitlab.example.com/", i + 1) for i, c in enumerate(t) if c == "<")
            assert not re.search(r"@(channel|here|everyone)\b", t, re.I)


@pytest.mark.parametrize("text", ["\xa0~~~", "\u2003```", "\xa0~~~\n</details>", "\t~~~"])
def test_a_fence_behind_a_blank_that_is_not_a_space_does_not_swallow_the_note(text):
    """CommonMark indents fences with spaces only: the sanitizer leaves '\\xa0~~~' as text, so the note must not
    strip that blank away and make it a fence that swallows the rest of the note (found by the property below)."""
    body = render_mr_note(hostile_report(text), "https://gitlab.example.com")
    prose = outside_code(body)
    assert prose.count("<details>") == prose.count("</details>") > 0
    assert find_marker(body)["project"] == "shop/backend"
