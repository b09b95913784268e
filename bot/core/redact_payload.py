"""What is kept of a webhook delivery or an API object: every free text redacted, its shape kept (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Keys whose values are never free text: numbers and hashes GitLab generates. Everything else that is a
# string (titles, descriptions, commit messages, branch and tag names, note text, labels, even URLs,
# which may carry a token in their query) goes through the redactor, which leaves ordinary text as it is.
_GENERATED = frozenset({"sha", "before", "after", "checkout_sha", "id", "iid", "created_at", "updated_at"})

_WALKED = (str, dict, list)
_SCALARS = frozenset({int, float, bool, type(None)})  # what else a JSON parser gives: nothing to walk

# Which of these texts the redactor could change (their indexes, in order): one pass over them all.
Changeable = Callable[[Sequence[str]], list[int]]


def redact_payload(payload: Any, redact: Callable[[str], str], changeable: Changeable | None = None) -> Any:
    """A copy of payload with every free-text string passed through redact; keys, numbers and nesting kept.

    Walked twice with the same redact: a stateful redactor learns a secret where it is first recognised
    (a commit message's `password=...`) and the second walk removes it where it was seen before that,
    with nothing to recognise it by (a branch name, the MR title). `changeable(texts)`, when given, says
    which texts the redactor could change at all: only those are redacted, the second walk happens only
    when the first changed something (nothing was learnt otherwise), and what is not changed is shared with
    the input, not copied (most deliveries are returned as they are; the door asks this of every one)."""
    if changeable is None:
        return _walk(_walk(payload, redact, ""), redact, "")
    texts: list[str] = []
    _texts(payload, "", texts)
    current = list(texts)
    hits = changeable(current)
    for _ in range(2):  # the second walk: secrets learnt later in the first one, where they were seen before
        done: dict[str, str] = {}  # a text repeated (a commit's title, its message, the MR's title) is redacted once
        changed = False
        for i in hits:
            text = current[i]
            new = done.get(text)
            if new is None:
                new = done[text] = redact(text)
            if new != text:
                current[i], changed = new, True
        if not changed:
            break
        hits = changeable(current)
    if current == texts:
        return payload
    paths: list[tuple] = []
    _paths(payload, "", (), paths)
    out = payload
    for path, text, new in zip(paths, texts, current, strict=True):
        if new is not text:
            out = _replaced(out, path, new)
    return out


def _texts(value: Any, key: Any, out: list[str]) -> None:
    """Every free-text string of value, in document order (the walk every delivery takes: no paths).

    The exact types a JSON parser gives are checked first, dicts and lists in loops of their own: this walk
    is a tenth of the door's work per delivery. Subclasses (never from a parser) take the isinstance branch."""
    kind = type(value)
    if kind is dict:
        for k, v in value.items():
            if type(v) is str:
                if k not in _GENERATED:
                    out.append(v)
            elif type(v) not in _SCALARS and isinstance(v, _WALKED):
                _texts(v, k, out)
    elif kind is list:
        for v in value:
            if type(v) is str:
                if key not in _GENERATED:
                    out.append(v)
            elif type(v) not in _SCALARS and isinstance(v, _WALKED):
                _texts(v, key, out)
    elif isinstance(value, str):
        if key not in _GENERATED:
            out.append(value)
    elif isinstance(value, (dict, list)):
        _texts(dict(value) if isinstance(value, dict) else list(value), key, out)


def _paths(value: Any, key: Any, path: tuple, out: list[tuple]) -> None:
    """The path (keys and indexes) of every string _texts gives, in the same order (for the few that change)."""
    if isinstance(value, str):
        if key not in _GENERATED:
            out.append(path)
        return
    for k, v in value.items() if isinstance(value, dict) else enumerate(value):
        name = k if isinstance(value, dict) else key
        if isinstance(v, str):
            if name not in _GENERATED:
                out.append((*path, k))
        elif isinstance(v, (dict, list)):
            _paths(v, name, (*path, k), out)


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
