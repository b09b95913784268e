"""What is kept of a webhook delivery or an API object: every free text redacted, its shape kept (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# Keys whose values are never free text: numbers and hashes GitLab generates. Everything else that is a
# string (titles, descriptions, commit messages, branch and tag names, note text, labels, even URLs,
# which may carry a token in their query) goes through the redactor, which leaves ordinary text as it is.
_GENERATED = frozenset({"sha", "before", "after", "checkout_sha", "id", "iid", "created_at", "updated_at"})


def redact_payload(
    payload: Any, redact: Callable[[str], str], might_change: Callable[[str], bool] | None = None
) -> Any:
    """A copy of payload with every free-text string passed through redact; keys, numbers and nesting kept.

    Walked twice with the same redact: a stateful redactor learns a secret where it is first recognised
    (a commit message's `password=...`) and the second walk removes it where it was seen before that,
    with nothing to recognise it by (a branch name, the MR title). `might_change(text)`, when given, says
    whether the redactor could change anything in a text: a payload whose free text, taken together, holds
    nothing it could change is returned as it is (most deliveries; the door asks this of every one)."""
    if might_change is not None:
        return _redact_some(payload, redact, might_change)
    return _walk(_walk(payload, redact, ""), redact, "")


def _free_text(value: Any, key: str, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every free-text string with its path (keys and indexes), in document order."""
    if isinstance(value, str):
        if key not in _GENERATED:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _free_text(v, str(k), (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _free_text(v, key, (*path, i))


def _redact_some(payload: Any, redact: Callable[[str], str], might_change: Callable[[str], bool]) -> Any:
    """redact_payload's two walks over only the texts the redactor could change; the rest is shared, not copied."""
    texts = list(_free_text(payload, ""))
    if not texts or not might_change("\n".join(text for _, text in texts)):
        return payload
    current = [text for _, text in texts]
    for _ in range(2):  # the second walk: secrets learnt later in the first one, where they were seen before
        for i, text in enumerate(current):
            if might_change(text):
                current[i] = redact(text)
    out = payload
    for (path, text), new in zip(texts, current, strict=True):
        if new != text:
            out = _replaced(out, path, new)
    return out


def _replaced(value: Any, path: tuple, new: str) -> Any:
    """value with the string at path replaced, copying only the containers along the path."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replaced(value[head], rest, new)
    return copy


def _walk(value: Any, redact: Callable[[str], str], key: str) -> Any:
    if isinstance(value, str):
        return value if key in _GENERATED else redact(value)
    if isinstance(value, dict):
        return {k: _walk(v, redact, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, redact, key) for v in value]
    return value
