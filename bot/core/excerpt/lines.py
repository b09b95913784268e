"""The failure excerpt as a value: the chosen log lines, numbered as in the raw log (no pydantic: the CLI starts fast)."""

from __future__ import annotations

from dataclasses import dataclass

# Shown after a line whose end was cut off; the text itself stays the line's own words.
CUT_NOTE = " … [{n} more characters]"


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    """One chosen log line: its 1-based number in the raw log and its cleaned text."""

    n: int
    text: str
    section: str | None = None
    cut: int = 0  # characters of the cleaned line not shown in text

    def shown(self) -> str:
        """The text with a note of how much was cut off, if anything was."""
        return self.text + CUT_NOTE.format(n=self.cut) if self.cut > 0 else self.text


@dataclass(slots=True)
class Excerpt:
    """The lines of a job log that say why it failed, in log order."""

    lines: list[ExcerptLine]
    total_lines: int = 0
    failed_section: str | None = None  # the GitLab script section the failure sits in
    bytes_read: int = 0
    truncated: bool = False  # the log was larger than GITLAB_MAX_LOG_SIZE_MB and its middle was skipped
    lead: tuple[int, int] | None = None  # first and last line of the block the excerpt leads with

    def windows(self) -> list[list[ExcerptLine]]:
        """Contiguous runs of lines."""
        out: list[list[ExcerptLine]] = []
        for line in self.lines:
            if out and out[-1][-1].n + 1 == line.n:
                out[-1].append(line)
            else:
                out.append([line])
        return out

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def numbered(self) -> str:
        """The excerpt as 'n: text' lines with '...' between windows; what models are shown."""
        parts: list[str] = []
        for i, window in enumerate(self.windows()):
            if i:
                parts.append("...")
            parts.extend(f"{line.n}: {line.shown()}" for line in window)
        return "\n".join(parts)
