"""Output sanitising: untrusted text posted to GitLab or Slack cannot act, ping, link elsewhere or break the layout."""

from __future__ import annotations

import bisect
import re

from bot.core.messages import IMAGE_REMOVED, TEXT_SHORTENED

# U+2060 WORD JOINER: invisible, not whitespace for Ruby's or Python's \s, and not a username or
# command character, so putting it after "@" or before a leading "/" breaks the pattern GitLab
# and Slack look for while the text still reads the same.
WJ = "\u2060"

GITLAB_NOTE_LIMIT = 1_000_000
DEFAULT_MAX_CHARS = 60_000

# Ruby's "^" only starts a line after "\n" and GitLab deletes "\r" first; other separators are
# made into "\n" so that what we check is at least as strict as what GitLab will see.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0/C1 controls (except tab and newline) and bidi overrides that can hide or reorder text.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_COMMENT_TOKEN = re.compile(r"<!--|--!?>")
# A line whose first visible character is "/": GitLab's extractor only needs "^/cmd", but any
# leading whitespace is included so that a future, looser extractor is covered too.
_SLASH_LINE = re.compile(r"^([^\S\n]*)/", re.M)
_MENTION = re.compile(r"@(?=[\w.\-+])")
_GROUP_MENTION = re.compile(r"@(?=(?:all|here|channel|everyone)\b)", re.I)
# "#12" and "!12" make GitLab add "mentioned in" notes to issues and merge requests.
_ISSUE_REF = re.compile(r"(?<!&)([#!])(?=\d)")
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})([^\n]*)$")
_REF_DEFINITION = re.compile(r"\[(?=[^\[\]\n]+\]:)")

_URL_CHARS = r"(?:(?!&[lg]t;)[^\s<>\[\]()\"'`])"
_LINK_OR_URL = re.compile(
    r"(?P<link>(?P<bang>!?)\[(?P<label>[^\[\]\n]{0,1000})\]\(\s*(?P<target><[^<>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\))"
    # a bare scheme (`HTTP://`) is defanged too: nothing that reads as a link to another host is left
    r"|(?P<url>\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://" + _URL_CHARS + r"*)"
    r"|(?P<www>\bwww\." + _URL_CHARS + r"+)"
)
_TRAILING_PUNCT = ".,:;!?*_~"


def normalize_text(text: str) -> str:
    """One kind of line break, no control or bidi characters, no HTML comments."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    return _COMMENT_TOKEN.sub("", text)


def host_of(url_or_host: str) -> str:
    """'https://gitlab.example.com:8443/x' or 'gitlab.example.com' -> 'gitlab.example.com:8443' (lower case)."""
    value = (url_or_host or "").strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    return re.split(r"[/?#\\]", value, maxsplit=1)[0].lower()


def is_allowed_url(url: str, allowed_host: str) -> bool:
    """An absolute http(s) URL on exactly the allowed host (no user info, no backslash tricks)."""
    allowed = host_of(allowed_host)
    match = re.match(r"(?i)https?://([^/?#\\]*)(.*)\Z", url or "", re.S)
    if not allowed or not match:
        return False
    authority, rest = match.group(1).lower(), match.group(2)
    if "@" in authority or "\\" in rest or any(c.isspace() for c in url):
        return False
    if authority == allowed:
        return True
    # "gitlab.example.com" also allows the explicit default ports
    return ":" not in allowed and authority in (f"{allowed}:443", f"{allowed}:80")


def defang_url(url: str) -> str:
    """Readable, not clickable: 'https://evil.example/x' -> 'hxxps://evil[.]example/x'."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    elif scheme.lower() in ("http", "https"):
        scheme = scheme[0] + "xx" + scheme[3:] + "://"
    elif scheme.lower().startswith("hxx"):
        scheme += "://"  # already defanged
    else:
        scheme += "[:]//"
    host, slash, path = rest.partition("/")
    host = re.sub(r"(?<!\[)\.(?!\])", "[.]", host)
    return f"{scheme}{host}{slash}{path}"


def _split_trailing(url: str) -> tuple[str, str]:
    """Sentence punctuation after a URL is not part of it."""
    end = len(url)
    while end and url[end - 1] in _TRAILING_PUNCT:
        end -= 1
    return url[:end], url[end:]


def _fix_links(text: str, allowed_host: str) -> str:
    """Keep links and images to the allowed host; others become plain text, images are dropped."""

    def replace(m: re.Match[str]) -> str:
        if m.group("link"):
            target = m.group("target").strip("<>")
            label = m.group("label")
            if is_allowed_url(target, allowed_host):
                return m.group(0)
            if m.group("bang"):
                return IMAGE_REMOVED
            shown = defang_url(target) if "://" in target else target.replace("//", "/ /")
            return f"{_fix_links(label, allowed_host)} ({shown})" if shown else label
        raw = m.group("url") or m.group("www")
        url, tail = _split_trailing(raw)
        if m.group("url") and is_allowed_url(url, allowed_host):
            return raw
        return defang_url(url) + tail

    return _LINK_OR_URL.sub(replace, text)


def _inert_markup(text: str, allowed_host: str) -> str:
    """No HTML, no foreign links or images, no issue cross-references.

    Applied to code as well as prose: deciding exactly where GitLab sees code (lists, lazy
    continuation lines, …) is fragile, and every change here is invisible or harmless in code.
    """
    text = _REF_DEFINITION.sub(r"\\[", text)
    # replacing a link can leave its neighbours forming a new one ("[![x](a)](//b)"), so repeat
    for _ in range(6):
        fixed = _fix_links(text, allowed_host)
        if fixed == text:
            break
        text = fixed
    else:
        text = text.replace("[", "\\[")
    text = defuse_html(text)
    return _ISSUE_REF.sub(lambda m: m.group(1) + WJ, text)


def defuse_html(text: str) -> str:
    """'<' followed by a word joiner starts no tag, comment or autolink, and looks the same in code."""
    return re.sub(r"<(?!⁠)", "<" + WJ, text)


def _fence_states(lines: list[str]) -> tuple[list[bool], str | None]:
    """Per line, whether it belongs to a fenced block (fence lines included); and the fence left open."""
    inside: list[bool] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            m = _FENCE_OPEN.match(line)
            if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
                fence = m.group(2)
            inside.append(fence is not None)
            continue
        inside.append(True)
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if indent <= 3 and stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            fence = None
    return inside, fence


def close_open_fence(text: str) -> str:
    """A fenced block left open by untrusted text is closed, so it cannot swallow what follows."""
    _, fence = _fence_states(text.split("\n"))
    return text if fence is None else text.rstrip("\n") + "\n" + fence


def balance_backticks_per_line(text: str) -> str:
    """Outside fenced blocks, a backtick run that closes no code span on its own line is escaped."""
    lines = text.split("\n")
    inside, _ = _fence_states(lines)
    return "\n".join(line if code else balance_backticks(line) for line, code in zip(lines, inside, strict=True))


def defuse_quick_actions(text: str) -> str:
    """No line starts (after blanks) with '/': GitLab would run '/merge', '/approve', … with our rights."""
    return _SLASH_LINE.sub(lambda m: m.group(1) + WJ + "/", text)


def defuse_mentions(text: str) -> str:
    """Every '@name' is broken so nobody is notified."""
    return _MENTION.sub("@" + WJ, text)


def defuse_group_mentions(text: str) -> str:
    """'@all', '@here', '@channel', '@everyone' are broken, other text is left alone."""
    return _GROUP_MENTION.sub("@" + WJ, text)


def _shorten(text: str, budget: int, marker: str) -> str:
    if len(text) <= budget:
        return text
    keep = max(0, budget - len(marker) - 1)
    cut = text.rfind("\n", 0, keep)
    cut = cut if cut > keep // 2 else keep
    return text[:cut].rstrip() + "\n" + marker


def sanitize_gitlab_markdown(text: str, allowed_host: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Untrusted markdown made safe to post in a GitLab note, at most max_chars long.

    Kept: markdown formatting, code spans (on one line; stray backticks are escaped) and fenced
    blocks (closed if left open), links and images
    to allowed_host. Made inert: HTML and HTML comments, links and bare URLs to other hosts (shown
    defanged), images to other hosts (removed), @mentions, #/! references, quick-action lines,
    link reference definitions.
    """
    max_chars = max(len(TEXT_SHORTENED) + 1, min(max_chars, GITLAB_NOTE_LIMIT))
    text = normalize_text(text)
    budget = max_chars
    # escaping can make the text longer, so shrink the input until the output fits
    for _ in range(8):
        body = close_open_fence(_inert_markup(_shorten(text, budget, TEXT_SHORTENED), allowed_host))
        body = balance_backticks_per_line(body)
        out = defuse_quick_actions(defuse_mentions(body))
        if len(out) <= max_chars:
            return out
        budget = max(1, int(budget * max_chars / len(out)) - 16)
    return defuse_quick_actions(_shorten(out, max_chars, TEXT_SHORTENED))[:max_chars]


def sanitize_gitlab_inline(text: str, allowed_host: str, *, max_chars: int = 300) -> str:
    """One line of untrusted text (job name, title, summary) for use inside a sentence."""
    text = " ".join(normalize_text(text).split())
    if len(text) > max_chars:
        text = text[: max(0, max_chars - 1)].rstrip() + "…"
    return balance_backticks(defuse_mentions(_inert_markup(text, allowed_host)))


def sanitize_code_text(text: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Untrusted text for inside a fenced code block: no HTML escaping (GitLab shows it literally)."""
    text = normalize_text(text)[:max_chars]
    return defuse_quick_actions(defuse_mentions(text))


def code_fence(content: str, char: str = "`") -> str:
    """A fence longer than any run of the fence character in content, so content cannot close it."""
    longest = max((len(run) for run in re.findall(re.escape(char) + "+", content)), default=0)
    return char * max(3, longest + 1)


def code_span(text: str) -> str:
    """Inline code whose delimiters outlast any backtick run inside (one line)."""
    text = " ".join(normalize_text(text).split())
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def escape_link_text(text: str) -> str:
    """Link text that cannot end the link early or nest another one (existing escapes are kept)."""
    return re.sub(
        r"\\[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]|([\[\]])",
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(0),
        text,
    )


def balance_backticks(text: str) -> str:
    """Backtick runs that close no code span are escaped, so they cannot pair with our own code
    spans later on the same line."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
    by_length: dict[int, list[int]] = {}
    for start, end in runs:
        by_length.setdefault(end - start, []).append(start)
    out: list[str] = []
    pos = 0
    for start, end in runs:
        if start < pos:
            continue  # inside a code span already kept
        slashes = 0
        while start - slashes - 1 >= pos and text[start - slashes - 1] == "\\":
            slashes += 1
        if slashes % 2:
            start += 1  # the first backtick is escaped; the rest of the run may still open a span
            if start == end:
                continue
        # inside a code span backslashes are literal, so the closer is the next run of equal length
        starts = by_length.get(end - start, [])
        i = bisect.bisect_left(starts, end)
        if i < len(starts):
            close_end = starts[i] + (end - start)
            out.append(text[pos:close_end])
            pos = close_end
        else:
            out.append(text[pos:start] + "\\`" * (end - start))
            pos = end
    return "".join(out) + text[pos:]


# --- Slack ------------------------------------------------------------------------

_SLACK_GROUP_WORD = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.I)
_SLACK_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s<>|\"'`]+|\bwww\.[^\s<>|\"'`]+")


def slack_escape(text: str) -> str:
    """The three characters Slack requires escaped in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sanitize_slack_mrkdwn(text: str, *, allowed_host: str = "", max_chars: int | None = None) -> str:
    """Untrusted text for Slack mrkdwn: cannot ping (<!channel>, <@U…>, @here) or make a link.

    Bare URLs are defanged unless they point at allowed_host, since Slack turns them into links.
    """
    text = normalize_text(text)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(0, max_chars - 1)].rstrip() + "…"

    def url(m: re.Match[str]) -> str:
        found, tail = _split_trailing(m.group(0))
        if allowed_host and is_allowed_url(found, allowed_host):
            return m.group(0)
        return defang_url(found) + tail

    text = _SLACK_URL.sub(url, text)
    text = slack_escape(text)
    return _SLACK_GROUP_WORD.sub("@" + WJ, text)


def slack_code_text(text: str) -> str:
    """Untrusted text for inside a Slack ``` block: escaped, and no ``` that would end the block."""
    text = slack_escape(normalize_text(text))
    text = re.sub(r"``+", lambda m: WJ.join(m.group(0)), text)
    return _SLACK_GROUP_WORD.sub("@" + WJ, text)


def plain_text(text: str, limit: int) -> str:
    """Slack plain_text fields: one line, no control characters, at most limit characters."""
    text = " ".join(normalize_text(text).split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"
