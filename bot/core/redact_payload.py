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
        if not might_change("\n".join(_free_text(payload, ""))):
            return payload

        def redact_some(text: str) -> str:
            return redact(text) if might_change(text) else text

        return _walk(_walk(payload, redact_some, ""), redact_some, "")
    return _walk(_walk(payload, redact, ""), redact, "")


def _free_text(value: Any, key: str) -> Iterator[str]:
    if isinstance(value, str):
        if key not in _GENERATED:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _free_text(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _free_text(v, key)


def _walk(value: Any, redact: Callable[[str], str], key: str) -> Any:
    if isinstance(value, str):
        return value if key in _GENERATED else redact(value)
    if isinstance(value, dict):
        return {k: _walk(v, redact, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, redact, key) for v in value]
    return value
