"""Excerpt rules about CI output in general, judged by cross-validation (benchmarks/excerpt_cv.py): each with a log that needs it."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import STRONG, WEAK, is_exit_line, score_line


def noise(n: int, prefix: str = "[INFO] Compiling module") -> str:
    return "".join(f"{prefix} {i} of {n}: ok\n" for i in range(n))


def shown(log: str, budget: int = 2000) -> dict[int, str]:
    return {line.n: line.text for line in excerpt(log, budget).lines}


def test_a_resource_the_system_ran_out_of_is_found_in_the_middle_of_a_long_log():
    """ENOSPC and its kin hold no failure word the pre-filter knew ("No space left on device")."""
    lines = noise(300).splitlines()
    lines[150:150] = [f"bash: line {169 + i}: pom.bak{i}.xml: No space left on device" for i in range(4)]
    lines += noise(300, "[INFO] Running test").splitlines() + ["ERROR: Job failed: exit code 1"]
    got = shown("\n".join(lines) + "\n")
    assert all(n in got for n in range(151, 155)), sorted(got)
    assert score_line("OSError: too many open files") >= STRONG
    assert score_line("write /var/lib/docker/tmp/x: disk quota exceeded") >= STRONG


def test_a_failure_printed_after_a_titled_list_item_is_not_swallowed_by_it():
    """A report section under a titled rule ("--- Results ---") used to take the failure lines that followed it into
    its own block, and replacing that block by the list item dropped them."""
    log = (
        noise(200) + "--- Displays results of the compile ---\n"
        "Number of tests: 906\nNumber of errors in tests: 0\n\n"
        "-------------------------------------------------------\n"
        "Inserts the plugin\n-------------------------------------------------------\n\n"
        + "".join(f"cp: cannot create 'out{i}.xml': No space left on device\n" for i in range(3))
        + noise(200, "[INFO] Running test")
        + "ERROR: Job failed: exit code 1\n"
    )
    got = shown(log)
    assert [n for n, t in got.items() if "No space left" in t] == [209, 210, 211]


def test_a_line_github_actions_marks_as_an_error_is_a_strong_line_but_its_exit_line_stays_an_exit_line():
    assert score_line("##[error]Something went wrong while deploying") >= STRONG
    assert score_line("##[error]src/a.ts(3,5): error TS2304: Cannot find name 'x'.") >= STRONG
    assert score_line("##[error]Process completed with exit code 1.") < STRONG


def test_a_github_actions_step_runs_from_its_group_header_to_its_exit_line():
    """`##[group]Run <command>` echoes the step as `$ command` does: the failing step's first output is kept even
    when it says nothing a rule knows, as for a GitLab job."""
    log = (
        "##[group]Run ./scripts/check-version.sh\n./scripts/check-version.sh\nshell: /usr/bin/bash -e {0}\n"
        "##[endgroup]\n"
        + noise(80, "checking package")
        + "##[error]Process completed with exit code 3.\n"
        + noise(100, "Post job cleanup step")
    )
    got = shown(log, 1500)
    assert 1 in got and got[1] == "##[group]Run ./scripts/check-version.sh"


def test_a_github_actions_steps_first_output_is_the_line_after_its_group():
    """The group a `##[group]Run` line opens holds the step's script, shell and environment, not its output."""
    env = "".join(f"  SETTING_{i}: value-{i}\n" for i in range(6))
    log = (
        "##[group]Run ./scripts/release.sh\n./scripts/release.sh\nshell: /usr/bin/bash -e {0}\nenv:\n"
        + env
        + "##[endgroup]\nrelease.sh: version 2.4.0 is already on the registry, nothing to do here\n"
        + noise(80, "checking package")
        + "##[error]Process completed with exit code 3.\n"
        + noise(100, "Post job cleanup step")
    )
    got = shown(log, 1500)
    assert got.get(12) == "release.sh: version 2.4.0 is already on the registry, nothing to do here", sorted(got)


def test_a_runners_echo_of_a_command_scores_nothing_whatever_words_the_command_holds():
    assert score_line("$ timeout 20m ./ci/build.sh") == 0.0
    assert score_line("##[group]Run pytest tests/test_errors.py --maxfail=1") == 0.0
    assert score_line("$ $TIMEOUT 35m ci/build.sh") == 0.0
    # What the command printed still counts.
    assert score_line("timeout: the monitored command dumped core") > 0


def test_a_builds_progress_line_naming_a_module_or_package_is_not_a_failure():
    # The names are a module's (GHC) and a crate's (Cargo); the same words in an error still count.
    assert score_line("haskeline > [ 6 of 25] Compiling System.Console.Haskeline.MonadException") <= WEAK
    assert score_line("   Compiling failure v0.1.8") <= WEAK
    assert score_line("error: Compiling Foo.Bar failed") >= STRONG


def test_a_tests_ok_with_its_time_is_a_pass_whatever_its_name_says():
    # Haskell's tasty prints each test's verdict and time after its name; a name may say "errors" or "should fail".
    assert score_line("  parses errors: OK (0.01s)") <= WEAK
    assert score_line("  'Bad.purs' should fail with 'UnknownName': OK (0.08s)") <= WEAK
    assert score_line("  parses errors: FAIL (0.02s)") >= STRONG


def test_other_ci_systems_step_and_phase_lines_score_nothing_and_their_prefixes_are_not_the_tools_words():
    # Jenkins, Azure Pipelines, Buildkite, CodeBuild, Cloud Build and TeamCity frame a step's output with lines of
    # their own; "failure" or "FAILED" in them says only that an earlier step failed.
    for line in (
        "[Pipeline] // stage",
        'Stage "Deploy" skipped due to earlier failure(s)',
        "##[section]Finishing: Run tests",
        "~~~ Running commands",
        'Starting Step #2 - "test"',
        "##teamcity[testFinished name='tests.test_cart.test_total' duration='5']",
    ):
        assert score_line(line) == 0.0, line
    # A step prefix is left out before the line is scored: the tool's verdict counts as if printed alone.
    assert score_line('Step #1 - "test": FAIL src/cart.test.js') == score_line("FAIL src/cart.test.js")
    assert score_line("[Container] 2026/12/09 10:20:18 Running command npm test") == 0.0


def test_other_ci_systems_error_markers_are_strong_lines_and_their_exits_are_exit_lines():
    assert score_line("##vso[task.logissue type=error;sourcepath=db/x.py]Migration 0042 has no reverse step") >= STRONG
    assert score_line("##teamcity[buildProblem description='Migration 0042 has no reverse step']") >= STRONG
    assert score_line("##teamcity[testFailed name='t.test_total' message='assert 100 == 90']") >= STRONG
    for line in (
        "##[error]Bash exited with code '1'.",
        "Exited with code exit status 1",
        "CircleCI received exit code 1",
        "🚨 Error: The command exited with status 1",
        "user command error: exit status 1",
        "Process exited with code 1",
        "[Container] 2026/12/09 10:20:18 Command did not exit successfully npm test exit status 1",
        "[Container] 2026/12/09 10:20:18 Phase complete: BUILD State: FAILED",
        'ERROR: build step 2 "gcr.io/cloud-builders/npm" failed: step exited with non-zero status: 1',
    ):
        assert is_exit_line(line), line
    assert not is_exit_line("Phase complete: BUILD State: SUCCEEDED")
