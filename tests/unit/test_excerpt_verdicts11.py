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
