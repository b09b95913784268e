"""Failure signatures: stable across runs of the same failure, distinct between different failures."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.fingerprint import normalise, signature, template_lines
from bot.core.types import Excerpt
from tests.helpers import ROOT
from tests.scenario import INJECTION_TRACE, PYTEST_TRACE

LOGCHUNKS = ROOT.parent / "shared" / "datasets" / "logchunks-dev" / "logs"


def rerun(log: str, seed: int) -> str:
    """The same failure in another pipeline: other times, job ids, temp dirs, durations, ports, hashes."""
    rng = random.Random(seed)
    log = re.sub(r"\b\d{2}:\d{2}:\d{2}\b", lambda m: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}", log)
    log = re.sub(r"\b[0-9a-f]{40}\b", lambda m: "%040x" % rng.getrandbits(160), log)
    log = re.sub(r"/tmp/[\w.-]+", lambda m: f"/tmp/tmp{rng.getrandbits(32):x}", log)
    log = re.sub(r"\b(\d+(?:\.\d+)?)s\b", lambda m: f"{rng.random() * 100:.2f}s", log)
    log = re.sub(r"127\.0\.0\.1:\d+", lambda m: f"127.0.0.1:{rng.randint(1024, 65535)}", log)
    log = re.sub(r"section_(start|end):\d+", lambda m: f"section_{m.group(1)}:{rng.randint(10**9, 2 * 10**9)}", log)
    return log


def test_normalise_replaces_run_specific_parts():
    line = ("2024-05-14T10:00:03Z job 812345 failed after 12.5s at /tmp/pytest-of-ci/pytest-3/test0/x.py:42 "
            "sha256:" + "ab" * 32 + " 550e8400-e29b-41d4-a716-446655440000 10.0.0.12:5432")
    assert normalise(line) == "<ts> job <n> failed after <dur> at <tmp>:<n> <digest> <uuid> <ip>"


def test_the_same_failure_in_another_pipeline_has_the_same_signature():
    first = excerpt(PYTEST_TRACE + "Uploading artifacts 0.3s /tmp/abc\n")
    again = excerpt(rerun(PYTEST_TRACE, 1) + "Uploading artifacts 9.9s /tmp/xyz\n")
    assert signature(first) == signature(again) != ""


def test_different_failures_have_different_signatures():
    other_test = PYTEST_TRACE.replace("test_parse_amount", "test_format_amount").replace("parse_amount(", "format_amount(")
    signatures = {signature(excerpt(log)) for log in (PYTEST_TRACE, INJECTION_TRACE, other_test)}
    assert len(signatures) == 3


def test_an_empty_excerpt_has_no_signature():
    assert signature(Excerpt([])) == "" and template_lines(Excerpt([])) == []


def _real_logs(limit: int) -> list[Path]:
    if not LOGCHUNKS.is_dir():
        pytest.skip(f"LogChunks data not found at {LOGCHUNKS}")
    return sorted(LOGCHUNKS.rglob("*.log"))[:limit]


def test_real_logs_keep_their_signature_when_rerun():
    stable = 0
    logs = _real_logs(120)
    for path in logs:
        text = path.read_text(errors="replace")
        stable += signature(excerpt(text)) == signature(excerpt(rerun(text, 7)))
    assert stable / len(logs) >= 0.95, f"{stable} of {len(logs)} kept their signature"


def test_labelled_failure_kinds_separate_on_real_logs():
    """LogChunks labels each log's failure with a category per repository: different categories are
    different failures and must get different signatures; the same category often (not always: a
    category can hold different tests or modules) gets the same one."""
    import itertools
    import xml.etree.ElementTree as ET

    labels = LOGCHUNKS.parent / "build-failure-reason"
    _real_logs(1)
    same = [0, 0]
    different = [0, 0]
    for xml in sorted(labels.rglob("*.xml")):
        examples = [(e.findtext("Log"), e.findtext("Category")) for e in ET.parse(xml).getroot().findall("Example")]
        sigs = [(signature(excerpt((LOGCHUNKS / log).read_text(errors="replace"))), cat) for log, cat in examples]
        for (s1, c1), (s2, c2) in itertools.combinations(sigs, 2):
            bucket = same if c1 == c2 else different
            bucket[0] += 1
            bucket[1] += (s1 == s2) if c1 == c2 else (s1 != s2)
    print(f"different kinds told apart: {different[1]}/{different[0]}; same kind matched: {same[1]}/{same[0]}")
    assert different[1] / different[0] >= 0.95  # 709/728 today
    assert same[1] / same[0] >= 0.40  # 449/1046 today


def test_strong_lines_outside_the_leading_failure_do_not_change_the_signature():
    # The same test failure; the runs differ in a side remark elsewhere in the log (a retried download).
    failure = ("$ pytest\n" + "".join(f"tests/test_{i}.py .\n" for i in range(30))
               + "E   AssertionError: assert 3 == 4\nFAILED tests/test_math.py::test_add - AssertionError\n"
               + "ERROR: Job failed: exit code 1\n")
    first = excerpt("W: Failed to fetch http://mirror-a/dists/InRelease  Could not resolve host\n" + failure)
    again = excerpt("fatal: unable to access 'https://mirror-b/tools.git/': Could not resolve host\n" + failure)
    assert first.lead is not None
    assert signature(first) == signature(again) != ""
    # Without the lead, the side remarks make the two look different.
    first.lead = again.lead = None
    assert signature(first) != signature(again)
