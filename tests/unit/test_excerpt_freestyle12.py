"""Jenkins freestyle jobs: "Build step 'Execute shell' marked build as failure" ends the build step that failed; the
publishers that run after it (test reports, artifacts, static analysis) are not that step."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import is_exit_line


def test_a_failed_build_step_is_an_exit_line_and_a_publisher_is_not():
    assert is_exit_line("Build step 'Execute shell' marked build as failure")
    assert is_exit_line("Build step 'Invoke top-level Maven targets' marked build as failure")
    assert not is_exit_line("Build step 'Publish JUnit test result report' marked build as failure")


def test_the_shell_steps_failure_is_shown_before_a_publishers_exception():
    log = ["Started by an SCM change", "[core] $ /bin/sh -xe /tmp/jenkins5512.sh", "+ ./run-checks.sh"]
    log += [f"checking module{i} ... ok" for i in range(60)]
    log += [
        "checking module60 ... FAILED",
        "  module60: schema version 7 expected, found 6",
        "1 of 61 checks FAILED",
        "Build step 'Execute shell' marked build as failure",
        "Recording test results",
        "Sending e-mails to: team@example.com",
        "[htmlpublisher] Archiving HTML reports...",
        "ERROR: Build step failed with exception",
        'java.lang.NullPointerException: Cannot invoke "hudson.FilePath.act" because "workspace" is null',
        "\tat io.jenkins.plugins.analysis.core.steps.IssuesRecorder.perform(IssuesRecorder.java:612)",
        "\tat hudson.tasks.BuildStepMonitor$1.perform(BuildStepMonitor.java:20)",
        "Build step 'Record compiler warnings and static analysis results' marked build as failure",
        "Finished: FAILURE",
    ]
    shown = "\n".join(line.text for line in excerpt("\n".join(log) + "\n", 400).lines)
    assert "module60: schema version 7 expected, found 6" in shown
