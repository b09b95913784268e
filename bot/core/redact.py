"""Secret redaction for job logs and for every text the bot stores, sends or posts (pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from bot.core import redact_anchorless as anchorless
from bot.core import redact_lines as lines
from bot.core import redact_rules as rules
from bot.core.redact_assign import assigned_secret
from bot.core.redact_forms import (
    B64_TRIGGERS,
    MIN_LITERAL_LEN,
    KnownSecrets,
    anchored_regex,
    compiled_trie,
    decode_base64,
    literal_variants,
    prefilter_for,
    rarest,
    related_triggers,
)
from bot.core.redact_order import run_order
from bot.core.redact_printed import PRINTER_TRIGGERS
from bot.core.redact_rules import (  # noqa: F401 (the public names of redaction live here)
    MAX_PEM_LINES,
    MAX_PENDING_CHARS,
    PLACEHOLDER,
    looks_random,
    placeholder,
    shannon_entropy,
)
from bot.core.redact_scan import joined_lower, texts_matching
from bot.core.redact_views import through_view

# How much of a found secret's form the pre-filter looks for.
KNOWN_TRIGGER_LEN = 16
# Texts with nothing to redact, remembered per process so a delivery's repeated texts (its project, URLs,
# users, runners) are not looked at again: at most this many, each at most this long (about 2 MB at most).
CLEAN_TEXTS_KEPT = 8192
CLEAN_TEXT_MAX_CHARS = 256


class Redactor:
    """Replaces secrets with typed placeholders; `redact_line` keeps state across the lines of one log."""

    def __init__(self, extra_patterns: Iterable[str] = (), literals: Iterable[str] = ()) -> None:
        self._extra_sources, self._literal_sources = list(extra_patterns), list(literals)
        self.extra_patterns: list[re.Pattern[str]] = []
        for pattern in extra_patterns:
            try:
                self.extra_patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ValueError(f"REDACT_EXTRA_PATTERNS: bad pattern {pattern!r}: {exc}") from None
        variants: set[str] = set()
        for literal in literals:
            if literal and len(literal) >= MIN_LITERAL_LEN:
                variants |= literal_variants(literal)
        # Longest first, so a literal is never half-replaced by a shorter one inside it.
        self._literals = sorted(variants, key=len, reverse=True)
        self._literal_re = re.compile("|".join(re.escape(v) for v in self._literals)) if self._literals else None
        self._dispatch: dict[str, list[Callable[[str], str]]] = {}
        triggers: set[str] = set()
        # By identity: comparing rules as dataclasses (every field, patterns included) cost more than the rest here.
        headers = {id(rule) for rule in rules.HEADER_RULES}
        for rule in rules.TOKEN_RULES + rules.HEADER_RULES:
            applier = self._rule_applier(rule, header=id(rule) in headers)
            for trigger in rule.triggers:
                self._dispatch.setdefault(trigger, []).append(applier)
                triggers.add(trigger)
        for trigger in rules.KEYWORD_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_assignments)
        for trigger in rules.URL_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_url_credentials)
        for trigger in B64_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_base64)
        for trigger in rules.PERCENT_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_percent_encoded)
        for literal in self._literals:
            self._dispatch.setdefault(literal.lower(), []).append(self._redact_literals)
        for trigger in PRINTER_TRIGGERS:  # no rule: a command whose next line _line reads for the secret it prints
            self._dispatch.setdefault(trigger, [])
        triggers |= set(self._dispatch) | set(rules.PEM_TRIGGERS)
        covers, self._overlaps = related_triggers(frozenset(triggers))
        self._dispatch = {
            trigger: sorted(
                {id(f): f for other in covers[trigger] for f in self._dispatch.get(other, ())}.values(),
                key=run_order,
            )
            for trigger in triggers
        }
        # Which rules a line needs: the words found by a trie, only on the few lines the pre-filter passes.
        self._words = compiled_trie(frozenset(triggers))
        self._triggers = frozenset(triggers)
        self._anchors, self._prefilter_words, self._base_prefilter = prefilter_for(self._triggers)
        self._prefilter = self._base_prefilter
        self._has_extra = bool(self.extra_patterns)
        self._appliers_cache: dict[frozenset[str], list[Callable[[str], str]]] = {}
        # Short texts redact_text returns as they are, with nothing learnt: the pre-filter passes them over, or
        # what it pointed at is no secret (an e-mail's @). Shared with fresh() copies; used only while pristine.
        self._clean: set[str] = set()
        self._marked = 0  # placeholders written, all kinds
        # None: the tables' rule functions are this redactor's own; else (fresh()) they are bound to it when used.
        self._own: dict[Callable[[str], str], Callable[[str], str]] | None = None
        self._state = lines.LineState()
        self._known = KnownSecrets()
        self._new_forms: list[str] = []
        self._learnt: set[str] = set()  # pieces of the forms of the secrets found, for the pre-filter
        self.counts: Counter[str] = Counter()  # placeholders written, by kind

    @classmethod
    def from_settings(cls, settings: Any) -> Redactor:
        return cls(settings.redact_extra_patterns, settings.redact_literals)

    def fresh(self) -> Redactor:
        """A redactor with the same operator patterns and literals that knows no secret yet (one per text).

        It shares this one's compiled tables and rule lookups (building them costs milliseconds, and the webhook
        door asks for one per delivery); a rule is bound to the new redactor when a text first needs it, so what
        the new one learns stays its own."""
        new = object.__new__(Redactor)
        new.__dict__.update(self.__dict__)
        new.counts = Counter()
        new._prefilter, new._learnt = self._base_prefilter, set()  # none of what this one learnt
        new.reset()
        new._own = {}
        return new

    def _bound(self, func: Callable[[str], str]) -> Callable[[str], str]:
        """The table's rule function (bound to the redactor that built the table) as this redactor's own."""
        own = self._own.get(func)
        if own is None:
            rule = getattr(func, "rule", None)
            own = self._rule_applier(rule, header=func.header) if rule is not None else getattr(self, func.__name__)
            self._own[func] = own
        return own

    # --- public API ----------------------------------------------------------------------
    def redact_line(self, line: str) -> str:
        """One log line, in order; a PEM key block spanning lines is replaced line by line."""
        state = self._state
        # Most lines: nothing carried over from the line before and no pre-filter word (the checks of _line, inline;
        # LineState.carries spelt out: a property call on every line of a log costs more than its four fields).
        if state.pem_lines or state.value_kind or state.printed_kind or state.block_kind or self._has_extra:
            return self._line(line, state)
        if self._prefilter.search(line.lower()):
            return self._line(line, state)
        return line

    def redact_text(self, text: str) -> str:
        """A whole string (a model answer, MR text, a Slack message, a log chunk)."""
        if len(text) > CLEAN_TEXT_MAX_CHARS or not self._pristine:
            return self._lines(text, lines.LineState())
        if text in self._clean:
            return text
        marked = self._marked
        out = self._lines(text, lines.LineState())
        if out == text and self._marked == marked and self._pristine and len(self._clean) < CLEAN_TEXTS_KEPT:
            self._clean.add(text)  # looked at, nothing to redact, nothing learnt: the same next time
        return out

    @property
    def _pristine(self) -> bool:
        """Nothing learnt and no operator pattern: redact_text of a text depends on the text alone."""
        return self._prefilter is self._base_prefilter and not self._known.kinds and not self._has_extra

    def might_change(self, text: str) -> bool:
        """Whether redact_text could change anything in text: False means it returns text as it is.

        Every rule, literal and secret found so far has a word in the pre-filter, and a line is carried over
        to the next only after a line the pre-filter passed."""
        low = text.lower()  # the anchorless shapes are looked for in it as in _lines: `7Z` too
        return self._has_extra or self._prefilter.search(low) is not None or anchorless.text_might_hold(low)

    def changeable(self, texts: Sequence[str]) -> list[int]:
        """The indexes of the texts redact_text could change: of those might_change passes, all but the ones known
        to come out unchanged, in one pre-filter pass.

        Texts redact_text or the pre-filter passed over before (a project's name, its URLs, a user's e-mail: most
        of every delivery) are not looked at again while this redactor has learnt nothing; a secret learnt makes
        the pre-filter wider, so a redactor that has learnt one scans everything."""
        if self._has_extra:
            return list(range(len(texts)))
        if not self._pristine:
            return self._scan(texts)
        clean = self._clean
        unknown = [i for i, text in enumerate(texts) if text not in clean]
        if len(unknown) == len(texts):
            hits = self._scan(texts)
        else:
            hits = [unknown[j] for j in self._scan([texts[i] for i in unknown])]
        if len(clean) + len(unknown) > CLEAN_TEXTS_KEPT:
            clean.clear()  # a bound, not a policy: what repeats comes back at once
        hit = set(hits)
        for i in unknown[:CLEAN_TEXTS_KEPT]:
            if i not in hit and len(texts[i]) <= CLEAN_TEXT_MAX_CHARS:
                clean.add(texts[i])
        return hits

    def _scan(self, texts: Sequence[str]) -> list[int]:
        """changeable's pre-filter pass: the texts with a match are exactly those might_change passes."""
        joined = joined_lower(texts)
        hits = texts_matching(self._prefilter, texts, joined, self.might_change)
        if anchorless.text_might_hold(joined):  # rare: the texts one by one
            hits = sorted(set(hits) | {i for i, text in enumerate(texts) if self.might_change(text)})
        return hits

    def redact_known(self, text: str) -> str:
        """text with every secret found so far removed, in every form (as printed, base64, URL-encoded, hex).

        A log can re-print a secret before the line that gives it away: run this over what is kept of a
        log once the whole log has been read, and over texts about it (questions, answers)."""
        return self._known.redact(text, self._mark)

    @property
    def known_secrets(self) -> int:
        return len(self._known.kinds)

    def reset(self) -> None:
        """Forget multi-line state and the secrets found (start of a new log)."""
        self._state = lines.LineState()
        if self._learnt:
            self._prefilter, self._learnt = self._base_prefilter, set()
        self._known = KnownSecrets()
        self._new_forms = []

    # --- the line pipeline ----------------------------------------------------------------
    def _line(self, line: str, state: lines.LineState) -> str:
        return through_view(line, state, self._plain_line)  # colour codes, escaped quotes: read without them

    def _plain_line(self, line: str, state: lines.LineState) -> str:
        if state.pem_lines:
            return self._inside_pem(line, state)
        if state.block_kind:
            inside = lines.inside_block(line, state, self._mark)
            if inside is not None:
                return inside
        if state.value_kind:
            line = lines.named_value(line, state, self._mark)
        if state.printed_kind:
            line = lines.printed_value(line, state, self._mark)
        if self.extra_patterns:
            line = self._redact_extra(line)
        low = line.lower()
        if not self._prefilter.search(low):
            return line
        read = line  # low is its lowered form while no step below rewrites it (most lines: none does)
        if "-----begin" in low and rules.PEM_BEGIN.search(line):
            line = self._start_pem(line, state)
            if state.pem_lines:
                return line
        if "private-lines:" in low and lines.PPK_PRIVATE.match(line):
            state.pem_lines = 1  # the key's base64 follows, read as a PEM block's body
            return line
        known = len(self._known.kinds)
        if known:
            line = self._known.redact(line, self._mark)  # before the rules: one placeholder kind per secret
        for func in self._appliers_for(low if line is read else line.lower()):
            line = func(line)
            if len(self._known.kinds) > known:  # found by this rule: gone in every form before the next rule
                known = len(self._known.kinds)
                line = self._known.redact(line, self._mark)
        if "default" in low or "=(" in low:  # Terraform's one-line variable block, Bash's array literal
            line = lines.one_line_forms(line, self._mark)
        if "name" in low or "key:" in low or line.rstrip().endswith(("{", "]=>")):  # CRLF, `{ `
            lines.names_secret(line, state)
        state.printed_kind = lines.next_line_kind(line)  # `$ terraform output -raw db_password`, `"password":`
        if line.rstrip().endswith(lines.BLOCK_INDICATORS) and ":" in line:
            lines.starts_block(line, state)
        if self._new_forms:
            self._look_for_new_forms()
        return line

    def _lines(self, text: str, state: lines.LineState) -> str:
        """Redact many lines, touching only the lines the pre-filter or a mark of the anchorless shapes points at."""
        if self.extra_patterns or not text.isascii():
            # Operator patterns have no pre-filter; a few characters change length when lowered, and one wide
            # character makes the whole string slow to lower and to scan: line by line.
            parts = text.split("\n")
            each = (self._line(p, state) for p in parts) if self.extra_patterns else self._lines_each(parts, state)
            if not text.isascii():  # no anchorless shapes: 6% slower; the whole-log learner reads ASCII
                return "\n".join(each)
            done = list(each)
            for i in anchorless.marked_lines(text):  # patched afterwards: no per-line cost for the others
                done[i] = anchorless.redact(done[i], self._mark)
            return "\n".join(done)
        low = text.lower()
        marks = anchorless.Marks(low)  # each mark searched for again only once passed: linear in the text
        mark_at = marks.next(0)
        out: list[str] = []
        pos = 0
        size = len(text)
        prefilter, found = None, -1  # found: where the next pre-filter match starts (size + 1: none)
        while pos <= size:
            if mark_at < pos:
                mark_at = marks.next(pos)
            carried = state.carries
            if carried:
                if pos == size:
                    break  # nothing after the last newline yet
                start = pos
            else:
                # Searched again once passed or widened (a text of marked lines: else once per line, to its end).
                if found < pos or prefilter is not self._prefilter:
                    prefilter = self._prefilter
                    match = prefilter.search(low, pos)
                    found = size + 1 if match is None else match.start()
                at = found if found < mark_at else mark_at
                if at > size:
                    break
                start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", start)
            if end == -1:
                end = size
            out.append(text[pos:start])
            line = text[start:end]
            if carried or start <= found < end:
                line = self._line(line, state)
            out.append(anchorless.redact(line, self._mark) if mark_at < end else line)
            pos = end
            if pos < size:
                out.append("\n")
            pos += 1
        if pos <= size:
            out.append(text[pos:])
        return "".join(out)

    def _lines_each(self, parts: list[str], state: lines.LineState) -> Iterator[str]:
        """The lines one by one, each that needs nothing passed over (LineState.carries spelt out, as in redact_line)."""
        for part in parts:
            if state.pem_lines or state.value_kind or state.printed_kind or state.block_kind:
                yield self._line(part, state)
            else:  # the pre-filter grows as secrets are found: looked up each line
                yield self._line(part, state) if self._prefilter.search(part.lower()) else part

    def _appliers_for(self, low: str) -> list[Callable[[str], str]]:
        found = self._table_appliers(low)
        return found if self._own is None else [self._bound(func) for func in found]

    def _table_appliers(self, low: str) -> list[Callable[[str], str]]:
        seen = set(self._words.findall(low))
        words = frozenset(seen)
        for word in seen:  # the triggers that may start inside a found one and run on past its end (each word once:
            # a line repeating one word thousands of times would search the whole line once per repeat)
            words |= {other for other in self._overlaps.get(word, ()) if other in low}
        cached = self._appliers_cache.get(words)
        if cached is not None:
            return cached
        found: list[Callable[[str], str]] = []
        for trigger in words:
            for func in self._dispatch.get(trigger, ()):
                if func not in found:
                    found.append(func)
        found.sort(key=run_order)
        if len(self._appliers_cache) < 4096:
            self._appliers_cache[words] = found
        return found

    # --- PEM private keys -----------------------------------------------------------------
    def _start_pem(self, line: str, state: lines.LineState) -> str:
        def one_line(match: re.Match[str]) -> str:
            rest = match.group(0)[rules.PEM_BEGIN.match(match.group(0)).end() :]  # type: ignore[union-attr]
            if not rules.PEM_END.search(rest) and rules.PEM_BODY.match(rest):
                state.pem_lines = 1  # the key's body follows on the next lines
            return self._mark("private-key")

        return rules.PEM_ONE_LINE.sub(one_line, line)

    def _inside_pem(self, line: str, state: lines.LineState) -> str:
        end = rules.PEM_END.search(line)
        if end:
            state.pem_lines = 0
            return self._mark("private-key") + self._line(line[end.end() :], state)
        if not rules.PEM_BODY.match(line) or state.pem_lines > MAX_PEM_LINES:
            state.pem_lines = 0  # the block was cut short; this line is ordinary log again
            return self._line(line, state)
        state.pem_lines += 1
        return self._mark("private-key")

    # --- secrets found: looked for again, in every form ---------------------------------------
    def _look_for_new_forms(self) -> None:
        """Add the forms of newly found secrets to the pre-filter (rare: only when a secret was found)."""
        self._learnt.update(self._piece(form.lower()) for form in self._new_forms)
        self._new_forms = []
        words = self._prefilter_words | self._learnt
        anchors = self._anchors | {rarest(w) for w in self._learnt if not self._anchors.intersection(w)}
        self._prefilter = re.compile(anchored_regex(words, anchors))

    def _piece(self, form: str) -> str:
        """A piece of form that points the pre-filter at a line holding it, holding one of its anchor letters:
        the pre-filter then stops at no character more often than before, where a random secret's form would
        otherwise add its own rarest character."""
        at = next((i for i, ch in enumerate(form) if ch in self._anchors), None)
        if at is None:  # a hex form may hold none: around its rarest character, which becomes an anchor letter
            at = form.index(rarest(form))
        start = max(0, min(at, len(form) - KNOWN_TRIGGER_LEN))
        return form[start : start + KNOWN_TRIGGER_LEN]

    # --- rule families --------------------------------------------------------------------
    def _mark(self, kind: str, secret: str | None = None) -> str:
        """The placeholder for one secret; the secret itself is remembered, to be found again in any form."""
        self.counts[kind] += 1
        self._marked += 1
        if secret:
            self._new_forms.extend(self._known.add(secret, kind))
        return placeholder(kind)

    def _rule_applier(self, rule: rules.TokenRule, header: bool = False) -> Callable[[str], str]:
        def replace(match: re.Match[str]) -> str:
            secret = match.group(rule.group)
            if secret is None or rule.check is not None and not rule.check(secret):
                return match.group(0)
            if rule.named:
                named = rules.name_kind(match.group(rule.named))
                if named is None or rule.weak_needs_random and not named[1] and not looks_random(secret):
                    return match.group(0)
            if rule.pieces is not None:
                mark = self._mark(rule.kind)
                for piece in rule.pieces(secret):
                    self._new_forms.extend(self._known.add(piece, rule.kind))
            else:
                mark = self._mark(rule.kind, secret)
            if rule.group == 0:
                return mark
            start, end = match.span(rule.group)
            base = match.start()
            whole = match.group(0)
            return whole[: start - base] + mark + whole[end - base :]

        needs = rule.needs
        need = needs[0] if len(needs) == 1 else None  # one mark: tested without a generator (many lines ask)

        needs_lower = rule.needs_lower

        def apply_rule(line: str) -> str:
            if need is not None:
                if need not in line:
                    return line
            elif needs and not any(mark in line for mark in needs):
                return line
            if needs_lower and line.isascii():  # a cheap test before a pattern that ignores case
                low = line.lower()
                if not any(word in low for word in needs_lower):
                    return line
            return rule.pattern.sub(replace, line)

        if header:
            apply_rule.__name__ = "apply_late_rule" if rule.late else "apply_header_rule"
        apply_rule.rule, apply_rule.header = rule, header  # type: ignore[attr-defined]  # for fresh()
        return apply_rule

    def _redact_url_credentials(self, line: str) -> str:
        if "@" not in line:
            return line

        def replace(match: re.Match[str]) -> str:
            password = match.group(2)
            if rules.is_placeholder(password) or match.group(1).endswith("[REDACTED") or password == rules.GITHUB_BASIC:
                return match.group(0)  # GitHub's fixed password: the token is the user (redact_documented)
            return f"{match.group(1)}:{self._mark('password', unquote(password))}@"

        return rules.URL_CREDENTIALS.sub(replace, line)

    def _redact_assignments(self, line: str) -> str:
        def replace(match: re.Match[str]) -> str:
            found = assigned_secret(match, line)
            if found is None:
                return match.group(0)
            kind, value, opening, closing = found
            start = match.start("val") - match.start()
            return match.group(0)[:start] + opening + self._mark(kind, value) + closing

        return rules.sub_assignments(replace, line)

    def _redact_base64(self, line: str) -> str:
        def replace(match: re.Match[str]) -> str:
            decoded = decode_base64(match.group(0))
            if decoded is None:
                return match.group(0)
            found = rules.PLACEHOLDER_RE.search(self._lines(decoded, lines.LineState()))
            return self._mark(found.group(1)) if found else match.group(0)  # the decoded secret was learned

        return rules.BASE64_RUN.sub(replace, line)

    def _redact_percent_encoded(self, line: str) -> str:
        # Dispatched by every line holding "passw", "token", "key"... (their `%3d` words start with them): only an
        # encoded '@' or '=' gives this rule anything to decode.
        if "%" not in line or ("%40" not in line and "%3d" not in line and "%3D" not in line):
            return line

        def replace(match: re.Match[str]) -> str:
            encoded = match.group(0)
            decoded = unquote(encoded)
            cleaned = self._lines(decoded, lines.LineState())
            return encoded if cleaned == decoded else cleaned

        return rules.PERCENT_RUN.sub(replace, line)

    def _redact_literals(self, line: str) -> str:
        assert self._literal_re is not None
        return self._literal_re.sub(lambda m: self._mark("custom"), line)

    def _redact_extra(self, line: str) -> str:
        for pattern in self.extra_patterns:

            def replace(match: re.Match[str]) -> str:
                if match.re.groups and match.group(1) is not None:
                    start, end = match.span(1)
                    whole = match.group(0)
                    base = match.start()
                    return whole[: start - base] + self._mark("custom", match.group(1)) + whole[end - base :]
                return self._mark("custom", match.group(0))

            line = pattern.sub(replace, line)
        return line


class StreamRedactor:
    """Chunk-level redaction: feed() returns what is safe to emit, flush() the rest."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self._state = lines.LineState()
        self._pending = ""

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        cut = self._pending.rfind("\n")
        if cut == -1:
            if len(self._pending) <= MAX_PENDING_CHARS:
                return ""
            cut = self._safe_cut(self._pending)
            if cut <= 0:
                return ""
            ready, self._pending = self._pending[:cut], self._pending[cut:]
            return self.redactor._lines(ready, self._state)
        ready, self._pending = self._pending[: cut + 1], self._pending[cut + 1 :]
        return self.redactor._lines(ready, self._state)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return self.redactor._lines(rest, self._state) if rest else ""

    @staticmethod
    def _safe_cut(text: str) -> int:
        """A space well before the end, not right after a secret-looking name (its value may follow).

        Only the last MAX_CUT_TRIES spaces are tried: a line made of nothing but such names (`-storepass ` a
        hundred thousand times) would otherwise be walked back whole on every chunk and never cut."""
        limit = len(text) - 4096
        first = cut = text.rfind(" ", 0, max(limit, 0))
        for _ in range(rules.MAX_CUT_TRIES):
            if cut <= 0 or not rules.SAFE_CUT_TAIL.search(text, max(0, cut - 80), cut):
                return cut
            cut = text.rfind(" ", 0, cut)
        return first
