"""The CI-log corpus (tests/data/ci-logs) is well formed, and the cross-validation folds are stable.

The corpus and `benchmarks/excerpt_cv.py` are how excerpt rules are judged on
repositories that did not inspire them; these tests keep their ground solid: every
log labelled with lines that exist and say something, key tokens that are really
printed, long logs that come out byte for byte the same, and folds that depend on
nothing but repository names. Nothing here runs the excerpt or measures time.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

CORPUS = ROOT / "tests" / "data" / "ci-logs"
DATASETS = ROOT.parent / "shared" / "datasets"
LOGCHUNKS = DATASETS / "logchunks-dev"
CIDIFF = DATASETS / "cidiff-dev"


def _load(path: Path, name: str):
    """Import a script by path; registered first, as dataclasses look their module up while it runs."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cv_folds = _load(ROOT / "benchmarks" / "cv_folds.py", "cv_folds")
excerpt_cv = _load(ROOT / "benchmarks" / "excerpt_cv.py", "excerpt_cv")
make_long = _load(CORPUS / "make_long.py", "ci_logs_make_long")
LABELS = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
GENERATED = make_long.build()


def log_bytes(name: str) -> bytes:
    """A log as the harness scores it: generated ones built in memory (they are not committed)."""
    return GENERATED[name][0] if name in GENERATED else (CORPUS / name).read_bytes()


def physical_lines(data: bytes) -> list[str]:
    """score.py's numbering: split on \\n after \\r\\n became \\n."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")


def visible(line: str) -> str:
    """What a reader sees of a line: after the last CR, without colour codes."""
    line = line.rstrip("\r").split("\r")[-1]
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).strip()


# --- the corpus ----------------------------------------------------------------------------


def test_the_corpus_has_at_least_30_logs_of_several_kinds():
    assert len(LABELS) >= 30
    kinds = {label["kind"] for label in LABELS.values()}
    assert len(kinds) >= 6, kinds


def test_every_log_is_labelled_and_every_label_has_a_log():
    committed = {p.name for p in CORPUS.glob("*.log")} - set(GENERATED)
    expected = set(LABELS) - set(GENERATED)
    assert committed == expected, (sorted(committed - expected), sorted(expected - committed))
    assert set(GENERATED) <= set(LABELS)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_a_label_points_at_lines_that_exist_and_say_something(name):
    label = LABELS[name]
    assert set(label) >= {"kind", "error_lines", "key_tokens"}
    assert label["kind"] and label["error_lines"] and label["key_tokens"]
    lines = physical_lines(log_bytes(name))
    numbers = label["error_lines"]
    assert numbers == sorted(set(numbers)), "error_lines: sorted, no repeats"
    for n in numbers:
        assert 1 <= n <= len(lines), f"line {n} of {len(lines)}"
        assert visible(lines[n - 1]), f"line {n} is blank"


@pytest.mark.parametrize("name", sorted(LABELS))
def test_key_tokens_are_printed_in_the_labelled_lines_or_the_log(name):
    label = LABELS[name]
    lines = physical_lines(log_bytes(name))
    labelled = "\n".join(lines[n - 1] for n in label["error_lines"])
    text = "\n".join(lines)
    for token in label["key_tokens"]:
        assert token in labelled or token in text, token


def test_most_key_tokens_are_in_the_labelled_lines():
    """A token only elsewhere in the log means the label misses a line a reader needs."""
    outside = []
    for name, label in LABELS.items():
        lines = physical_lines(log_bytes(name))
        labelled = "\n".join(lines[n - 1] for n in label["error_lines"])
        outside += [(name, t) for t in label["key_tokens"] if t not in labelled]
    total = sum(len(label["key_tokens"]) for label in LABELS.values())
    assert len(outside) <= total // 10, outside


def test_the_long_logs_are_the_same_on_every_build_and_match_their_labels():
    again = make_long.build()
    assert again == GENERATED
    for name, (data, label) in GENERATED.items():
        assert LABELS[name] == label, f"labels.json is stale for {name}: run make_long.py"
        assert len(physical_lines(data)) >= 700, name


def test_generated_logs_on_disk_are_current_when_present():
    stale = [
        name
        for name, (data, _) in GENERATED.items()
        if (CORPUS / name).exists() and (CORPUS / name).read_bytes() != data
    ]
    assert not stale, f"run python tests/data/ci-logs/make_long.py: {stale}"


def test_the_committed_corpus_stays_small():
    committed = sum(p.stat().st_size for p in CORPUS.iterdir() if p.is_file() and p.name not in GENERATED)
    assert committed < 2_000_000


def test_gitlab_logs_carry_section_markers_and_the_runner_exit_line():
    for name in LABELS:
        if ".gitlab." not in name:
            continue
        text = log_bytes(name).decode("utf-8")
        assert "section_start:" in text and "section_end:" in text, name
        assert "ERROR: Job failed: " in text, name


def test_github_actions_logs_carry_group_markers():
    for name in LABELS:
        if ".gha." in name:
            text = log_bytes(name).decode("utf-8")
            assert "##[group]" in text and "##[endgroup]" in text and "##[error]" in text, name


# --- folds ---------------------------------------------------------------------------------


def test_folds_depend_only_on_the_names_and_are_balanced():
    names = [f"owner{k}@repo{k}" for k in range(40)]
    folds = cv_folds.assign_folds(names)
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    assert cv_folds.assign_folds(shuffled) == folds
    assert cv_folds.assign_folds(set(names)) == folds
    sizes = [list(folds.values()).count(f) for f in range(4)]
    assert sizes == [10, 10, 10, 10]
    # 41 groups: still within one of each other
    sizes = sorted(list(cv_folds.assign_folds(names + ["late@comer"]).values()).count(f) for f in range(4))
    assert sizes == [10, 10, 10, 11]


def test_the_fold_hash_does_not_change_between_machines():
    """SHA-256 of the name, not Python's salted hash(): pinned so a change is deliberate."""
    assert cv_folds.stable_key("git@git") == "17596289bd96cde3cfffe286a2da6502812127ac308baa1781b949c9878076e3"
    assert cv_folds.assign_folds(["a", "b", "c", "d", "e"]) == {"d": 0, "c": 1, "b": 2, "e": 3, "a": 0}


def test_groups_are_read_from_paths_and_case_names():
    assert cv_folds.logchunks_repo("logs/Go/ethereum@go-ethereum/failed/123.log") == "ethereum@go-ethereum"
    assert cv_folds.cidiff_project("google_auto_693") == "google_auto"
    assert cv_folds.cidiff_project("spoonsnapshotdeployer_4314") == "spoonsnapshotdeployer"
    assert cv_folds.groundtruth_errors("DEFAULT\nE 3-5\nC 2\nE 9\n") == {2, 3, 4, 8}


@pytest.mark.skipif(
    not (LOGCHUNKS / "score.py").exists(),
    reason=f"the LogChunks development half is not beside the clone ({LOGCHUNKS})",
)
def test_logchunks_repositories_fall_into_4_folds_of_10():
    score = cv_folds.load_scorer(LOGCHUNKS)
    repos = {cv_folds.logchunks_repo(path) for path, _ in score.records(str(LOGCHUNKS))}
    assert len(repos) == 40
    folds = cv_folds.assign_folds(repos)
    assert sorted(list(folds.values()).count(f) for f in range(4)) == [10, 10, 10, 10]
    fold0 = sorted(r for r, f in folds.items() if f == 0)
    assert fold0 == [
        "BVLC@caffe",
        "elixir-lang@elixir",
        "emacs-tw@awesome-emacs",
        "jekyll@jekyll",
        "jgm@pandoc",
        "junegunn@vim-plug",
        "jwilm@alacritty",
        "nvbn@thefuck",
        "phoenixframework@phoenix",
        "twitter@AnomalyDetection",
    ]


@pytest.mark.skipif(
    not (CIDIFF / "cases").is_dir() or not (LOGCHUNKS / "score.py").exists(),
    reason=f"the CiDiff development half or score.py is not beside the clone ({DATASETS})",
)
def test_cidiff_has_32_labelled_cases_as_its_readme_says():
    cases, total = cv_folds.cidiff_cases(CIDIFF, cv_folds.load_scorer(LOGCHUNKS))
    assert (len(cases), total) == (32, 43)
    assert all(case.baseline is not None for case in cases)


# --- timestamped copies --------------------------------------------------------------------

GITLAB_PREFIX = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE] ")
ISO_PREFIX = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ")


@pytest.mark.parametrize("style, prefix", [("gitlab", GITLAB_PREFIX), ("iso", ISO_PREFIX)])
def test_stamping_keeps_every_line_where_it_was(style, prefix):
    data = log_bytes("pytest-segfault.gitlab.log") + b"a\r\nwindows line\r\nprogress 10%\rprogress 100%\nlast"
    stamped = cv_folds.stamp_log(data, "some/log", style)
    assert stamped == cv_folds.stamp_log(data, "some/log", style)
    before, after = data.split(b"\n"), stamped.split(b"\n")
    assert len(after) == len(before)
    stamps = []
    for old, new in zip(before, after, strict=True):
        match = prefix.match(new)
        assert match and new[match.end() :] == old
        stamps.append(new[: match.end()])
    assert stamps == sorted(stamps), "timestamps increase"
    assert b"\rprogress 100%" in stamped, "a CR stays inside its line"


def test_gitlab_stamps_put_about_a_tenth_of_lines_on_stderr_and_never_continue_a_line():
    data = log_bytes("unittest-matrix-long.gitlab.log")
    lines = cv_folds.stamp_log(data, "x", "gitlab").split(b"\n")[:-1]
    kinds = [line[30:32] for line in lines]
    assert set(kinds) <= {b"O ", b"E "}
    assert 0.05 < kinds.count(b"E ") / len(kinds) < 0.15


# --- comparing two commands ----------------------------------------------------------------


def test_compare_names_what_gained_or_lost_and_judges_a_change_without_the_folds_that_inspired_it():
    cases = [
        cv_folds.Case("x", f"r{i}/log{j}", f"r{i}", Path("/dev/null"), frozenset({0}))
        for i in range(4)
        for j in range(2)
    ]
    folds = {f"r{i}": i for i in range(4)}
    miss, held = excerpt_cv.CaseScore(False, 0.0, None, 0, 1), excerpt_cv.CaseScore(True, 1.0, None, 0, 1)
    a = {c: miss for c in cases} | {cases[7]: held}
    b = {c: miss for c in cases} | {cases[0]: held, cases[1]: held}  # r0 gains two, r3 loses one
    out = excerpt_cv.compare(cases, folds, a, b, interest={"r0"})
    assert out["gained"] == {"r0": ["r0/log0", "r0/log1"]}
    assert out["lost"] == {"r3": ["r3/log1"]}
    assert out["all"]["delta"] == pytest.approx(1 / 8)
    assert [f["delta"] for f in out["folds"]] == [1.0, 0.0, 0.0, -0.5]
    assert out["interest_folds"] == [0]
    assert out["without_interest"]["n"] == 6 and out["without_interest"]["delta"] == pytest.approx(-1 / 6)
