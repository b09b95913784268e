"""The secrets of a whole log, learnt from its raw chunks as they stream by, for the lines the excerpt keeps (pure)."""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator

from bot.core.excerpt.clean import without_escapes
from bot.core.excerpt.lines import Excerpt
from bot.core.redact import Redactor, StreamRedactor

# An escape sequence cut by a chunk's end is held back until the next chunk completes it (a title can be long).
ESCAPE_HELD_CHARS = 64
_WHOLE_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][A-Za-z0-9]|[@-Z\\-_])")


class LogLearner:
    """Reads every line of a log (those the excerpt drops too) with a redactor of its own, only to learn the
    secrets printed anywhere in it; `redact_known` then removes them, in every form, from what is kept.

    The excerpt's own redactor sees only the kept lines: a token printed in clear 3,000 lines above the failure
    and re-printed there as base64 (`echo $TOKEN | base64`) would otherwise reach the model. Reading stops after
    max_bytes, as the excerpt's reading of the lines it may keep does."""

    def __init__(self, redactor: Redactor, max_bytes: int | None = None) -> None:
        self._stream = StreamRedactor(redactor)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._left = max_bytes
        self._held = ""

    def feed(self, chunk: bytes) -> None:
        if self._left is not None:
            if self._left <= 0:
                return
            chunk = chunk[: self._left]
            self._left -= len(chunk)
        # Colours dropped: "\x1b[32mDEPLOY_TOKEN=..." must read as the assignment a terminal shows. What the
        # redactor writes is thrown away; only what it learns is kept.
        text = self._held + self._decoder.decode(chunk)
        self._held = ""
        esc = text.rfind("\x1b", max(len(text) - ESCAPE_HELD_CHARS, 0))
        if esc != -1 and not _WHOLE_ESCAPE.match(text, esc):
            text, self._held = text[:esc], text[esc:]
        self._stream.feed(_ascii(without_escapes(text)))

    def reading(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks, each read by this learner first (to hand on to the excerpt)."""
        for chunk in chunks:
            self.feed(chunk)
            yield chunk

    def close(self) -> None:
        """Read what is left of the last line (call once the log has been read)."""
        self._stream.feed(_ascii(without_escapes(self._held + self._decoder.decode(b"", final=True))))
        self._held = ""
        self._stream.flush()

    @property
    def known_secrets(self) -> int:
        return self._stream.redactor.known_secrets

    def redact_known(self, text: str) -> str:
        return self._stream.redactor.redact_known(text)


def forgetting(redactor: Redactor, whole_log: LogLearner | None) -> Callable[[str], str]:
    """A text with every secret that redactor or the whole log's learner found removed, in every form."""
    if whole_log is None:
        return redactor.redact_known
    return lambda text: whole_log.redact_known(redactor.redact_known(text))


def without_known_secrets(excerpt: Excerpt, redactor: Redactor, whole_log: LogLearner) -> Excerpt:
    """The excerpt with every secret that the kept lines' redactor or the whole log's learner found removed from
    every line, in every form: a secret found further down, or in a dropped line, may be re-printed in a kept one."""
    if not redactor.known_secrets and not whole_log.known_secrets:
        return excerpt
    known = forgetting(redactor, whole_log)
    return dataclasses.replace(
        excerpt, lines=[dataclasses.replace(line, text=known(line.text)) for line in excerpt.lines]
    )


def _ascii(text: str) -> str:
    """Each non-ASCII character as "?": the redactor reads an ASCII text in one pass, and one "✓" in a chunk would
    make it go line by line, at half the speed. The rules' names, words and token alphabets are ASCII, so what is
    learnt is the same, save a secret that holds such a character (learnt with a "?", so not found again)."""
    return text if text.isascii() else text.encode("ascii", "replace").decode("ascii")
