"""The last passing log as a baseline: volatile tokens normalised, known lines out-ranked by new ones."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json

from bot.cli import excerpt as cli
from bot.core.excerpt.baseline import Baseline, BaselineBuilder, Weights, build_baseline, line_key, normalise
from bot.core.excerpt.read import excerpt
from bot.core.render.mr_note import render_mr_note
from bot.core.report_codec import report_from_dict, report_to_dict
from bot.core.types import BaselineInfo
from tests.scenario import BASE, example_report

# Weights that make each mechanism visible on a small log. The shipped defaults are what cross-validation
# across CiDiff's projects chose (benchmarks/baseline_cv.py); tests of the defaults say so in their names.
STRONG = Weights(known=0.5, new=6.0, reach=3)


def strong_baseline(passing: str) -> Baseline:
    return dataclasses.replace(build_baseline([passing.encode()]), weights=STRONG)


COMMON = [f"step {i}: compiling module_{i}" for i in range(200)]
KNOWN_ERROR = "ERROR: cache server unreachable at {ip}:9000, continuing without cache"
NEW_ERROR = "ERROR: database migration 0042: column users.email already exists"


def _logs() -> tuple[str, str]:
    passing = (
        ["2026-11-30T09:00:01Z Running on runner-ab12cd34ef-project-42 on 10.0.0.7:2376"]
        + COMMON[:100]
        + [KNOWN_ERROR.format(ip="10.1.2.3")]
        + COMMON[100:]
        + ["Job succeeded in 12.5s"]
    )
    failing = (
        ["2026-12-01T10:11:12Z Running on runner-zz98yy76xx-project-42 on 10.0.0.9:2376"]
        + COMMON[:100]
        + [NEW_ERROR]
        + COMMON[100:150]
        + [KNOWN_ERROR.format(ip="10.9.8.7")]
        + COMMON[150:]
        + ["Job failed in 13.1s"]
    )
    return "\n".join(passing), "\n".join(failing)


def test_volatile_tokens_are_normalised() -> None:
    same = [
        ("[INFO] Total time:  23.375 s", "[INFO] Total time:  9.1 s"),
        (
            "2026-11-30T09:00:00.123456Z 00O Fetching 4e8932e579d2e085ea2d9e6e88035d1ad0ad16a6",
            "2026-12-01T17:42:03.000001Z 00O Fetching 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
        ),
        ("wrote /tmp/pytest-of-ci/pytest-12/test_a0/out.txt", "wrote /tmp/pytest-of-ci/pytest-3/test_a0/out.txt"),
        ("listening on 127.0.0.1:41235 (pid 812)", "listening on 127.0.0.1:39001 (pid 77)"),
        (
            "request 5f0c7c1e-8a7b-4f0e-9d51-2b1f6a3c9e10 took 152ms",
            "request 9a1d3c2e-1b2c-4d5e-8f90-1a2b3c4d5e6f took 9ms",
        ),
        ("May 21, 2022 3:36:18 PM org.example.Server start", "Jun 2, 2022 11:02:09 AM org.example.Server start"),
        ("object at 0x7f3a2b1c4d50", "object at 0x7f00aa11bb22"),
    ]
    for a, b in same:
        assert line_key(a) == line_key(b), (normalise(a), normalise(b))
    # A bare zero stays: the passing summary is not the failing one.
    assert line_key("Tests run: 12, Failures: 0, Errors: 0") != line_key("Tests run: 12, Failures: 2, Errors: 0")
    assert line_key("exit code 0") != line_key("exit code 1")
    assert line_key("ERROR: disk full") != line_key("ERROR: permission denied")


def test_a_line_of_the_passing_log_is_outranked_by_a_new_error_line() -> None:
    passing, failing = _logs()
    base = strong_baseline(passing)
    plain = excerpt(failing, budget_chars=300)
    with_base = excerpt(failing, budget_chars=300, baseline=base)
    known_shown = lambda ex: any(line.text.startswith("ERROR: cache server") for line in ex.lines)  # noqa: E731
    assert known_shown(plain)
    assert not known_shown(with_base)
    assert with_base.lead is not None
    lead = [line.text for line in with_base.lines if with_base.lead[0] <= line.n <= with_base.lead[1]]
    assert lead and lead[0].startswith("ERROR: database migration 0042")


def test_a_new_line_without_failure_words_is_shown_only_with_the_baseline() -> None:
    steps = [f"copy file_{i}.xml to backup" for i in range(300)]
    passing = "\n".join(steps + ["Deploy done", "Finished: SUCCESS"])
    failing = "\n".join(
        steps[:120]
        # A line no rule knows as a failure: only its being new can bring it in.
        + ["rsync: pom.bak9.xml: wrote 0 of 4096 bytes, remote closed"]
        + steps[120:]
        + ["Deploy done", "Finished: FAILURE"]
    )
    plain = excerpt(failing, budget_chars=600)
    with_base = excerpt(failing, budget_chars=600, baseline=strong_baseline(passing))
    assert not any("wrote 0 of" in line.text for line in plain.lines)
    assert any("wrote 0 of" in line.text and line.n == 121 for line in with_base.lines)


def test_the_builder_reads_chunks_split_anywhere_and_stays_bounded() -> None:
    passing, _ = _logs()
    data = passing.encode()
    whole = build_baseline([data])
    builder = BaselineBuilder()
    for i in range(0, len(data), 7):
        builder.feed(data[i : i + 7])
    assert builder.finish().keys == whole.keys
    # Numbers are volatile, so distinct lines need distinct words.
    words = "\n".join(f"compiling unit {chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(100)).encode()
    small = build_baseline([words], max_lines=10)
    assert len(small.keys) == 10 and not small.complete and small.lines == 100


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="cicd-bot")
    cli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(parser.parse_args(["excerpt", *argv]), None, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_takes_the_passing_log_as_baseline_and_its_ordinary_output_is_left_out(tmp_path) -> None:
    """The shipped weights: what the passing run printed too, far from any failure line, takes no budget."""
    steps = [f"copy file_{i}.xml to backup" for i in range(300)]
    failure = "ERROR: upload of file_150.xml failed: connection reset"
    (tmp_path / "pass.log").write_text("\n".join(steps + ["Finished: SUCCESS"]))
    (tmp_path / "fail.log").write_text("\n".join(steps[:150] + [failure] + steps[150:] + ["Finished: FAILURE"]))
    fail, passing = str(tmp_path / "fail.log"), str(tmp_path / "pass.log")
    code, out, _ = _run_cli(["--json", "--budget-chars", "2000", fail])
    plain = {line["n"]: line["text"] for line in json.loads(out)["lines"]}
    code, out, _ = _run_cli(["--json", "--budget-chars", "2000", "--baseline", passing, fail])
    record = json.loads(out)
    based = {line["n"]: line["text"] for line in record["lines"]}
    assert code == 0 and record["path"] == fail
    assert plain[151] == based[151] == failure and based[302] == "Finished: FAILURE"
    assert plain.get(246) == "copy file_244.xml to backup" and 246 not in based
    assert len(based) < len(plain) / 3
    code, out, err = _run_cli(["--baseline", str(tmp_path / "missing.log"), fail])
    assert code == 1 and out == "" and "missing.log" in err


def test_the_note_names_the_passing_pipeline_and_the_stored_report_keeps_it() -> None:
    report = example_report()
    info = BaselineInfo(8001, f"{BASE}/acme/platform/api/-/pipelines/8001", 80012, "main")
    report.jobs[0].baseline = info
    body = render_mr_note(report, BASE)
    assert f"passing pipeline [#8001]({info.pipeline_url})" in body
    assert report_from_dict(json.loads(json.dumps(report_to_dict(report)))).jobs[0].baseline == info
    report.jobs[0].baseline = None
    assert "passing pipeline" not in render_mr_note(report, BASE)


def test_new_lines_of_a_timestamped_log_are_shown_without_their_timestamps() -> None:
    steps = [f"copy file_{i}.xml to backup" for i in range(300)]
    passing = "\n".join(steps + ["Finished: SUCCESS"])
    plain = steps[:120] + ["rsync: file_120.xml: wrote 0 of 4096 bytes, remote closed"] + steps[120:]
    stamped = "\n".join(f"2026-11-30T09:00:{i % 60:02d}.123456Z 00O {line}" for i, line in enumerate(plain))
    got = excerpt(stamped, budget_chars=600, baseline=strong_baseline(passing))
    assert {"n": 121, "text": "rsync: file_120.xml: wrote 0 of 4096 bytes, remote closed"} in [
        {"n": line.n, "text": line.text} for line in got.lines
    ]
    assert not any(line.text.startswith("2026-") for line in got.lines)
