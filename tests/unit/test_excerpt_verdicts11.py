"""A job's own verdict at its end ("Done. Your build exited with 1.") ends the job, not the step before it: when a
step's exit line came first and another command ran between (an artifact upload, an after_failure), that command's
complaints are not the failing step's output."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt


def test_travis_lint_errors_are_shown_above_the_artifact_uploads_complaints_at_2000_characters():
    log = ["$ npm run lint", "", "> web@2.0.0 lint", "> eslint --format unix src", ""]
    for i in range(24):
        rule = "Unexpected console statement. [Error/no-console]" if i % 9 == 0 else "Strings must use singlequote."
        log.append(f"src/components/Widget{i}.js:{i + 3}:{i % 20 + 1}: {rule}")
    log += ["", "24 problems", "", 'The command "npm run lint" exited with 1.', "", "Uploading Artifacts"]
    log += ["$ artifacts upload", "INFO: uploading with settings", "  bucket: [secure]", ""]
    for name in ("web.tar.gz", "web.zip", "web-sourcemaps.tar.gz", "web-report.html"):
        log += [
            f"ERROR: failed to upload: /home/travis/build/acme/web/dist/{name}",
            f"  err: open /home/travis/build/acme/web/dist/{name}: no such file or directory",
            "",
        ]
    log += ["Done uploading artifacts", "", "Done. Your build exited with 1."]
    shown = "\n".join(line.text for line in excerpt("\n".join(log) + "\n", 2000).lines)
    assert "src/components/Widget0.js:3:1: Unexpected console statement." in shown
    assert "src/components/Widget9.js:12:10: Unexpected console statement." in shown


def test_a_tolerated_failure_above_does_not_take_the_job_s_verdict_from_the_test_that_failed_below():
    # stop 25's review: `cmd || echo ignoring` printed an exit line; the job's verdict is the later test's, so the
    # excerpt leads with that test, not with the tolerated command.
    log = ["$ ./scripts/optional-check.sh || echo 'optional check failed, ignoring'", "check: exit code 2"]
    log += ["optional check failed, ignoring", "$ go test ./..."]
    log += [f"ok  \texample.com/pkg{i}\t0.{i:02d}s" for i in range(200)]
    log += ["--- FAIL: TestParse (0.00s)", "    parse_test.go:31: got 3, want 4", "FAIL"]
    log += ["FAIL\texample.com/parse\t0.012s", "ERROR: Job failed: exit code 1"]
    ex = excerpt("\n".join(log) + "\n", 400)
    lead = "\n".join(line.text for line in ex.lines if ex.lead and ex.lead[0] <= line.n <= ex.lead[1])
    assert "--- FAIL: TestParse" in lead and "check: exit code 2" not in lead
