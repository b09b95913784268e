"""A job its runner stopped for time: the answer names the command that was running and the last line it printed,
on GitLab, Travis CI, GitHub Actions and Jenkins (hand-written tails in each runner's words)."""

from __future__ import annotations

from bot.core.types import Category
from tests.unit.test_offline_formats import offline_answer


def _quoted(answer) -> list[str]:
    return [e.text for e in answer.evidence]


def test_a_gitlab_job_timeout_names_the_running_command_and_where_it_was() -> None:
    log = """Running with gitlab-runner 17.6.0 (374d34fd)
Executing "step_script" stage of the job script
$ npm ci
added 812 packages in 21s
$ npx playwright test --project=chromium
Running 48 tests using 2 workers
  ✓  1 [chromium] › cart.spec.ts:12:3 › adds an item (2.1s)
  ✓  2 [chromium] › cart.spec.ts:30:3 › removes an item (1.9s)
  [chromium] › checkout.spec.ts:44:5 › pays with a saved card
section_end:1764493212:step_script
section_start:1764493212:cleanup_file_variables
Cleaning up project directory and file based variables
section_end:1764493215:cleanup_file_variables
ERROR: Job failed: execution took longer than 1h0m0s seconds
"""
    answer = offline_answer(log)
    assert answer.category is Category.timeout
    # The runner's verdict is the cause, so it leads; the command's last words say where it was, after it.
    assert answer.summary.startswith("ERROR: Job failed: execution took longer than 1h0m0s seconds")
    assert "ERROR: Job failed: execution took longer than 1h0m0s seconds" in _quoted(answer)
    assert "npx playwright test --project=chromium" in answer.summary
    assert "checkout.spec.ts:44:5 › pays with a saved card" in answer.summary
    assert "`npx playwright test --project=chromium` was running (line 5)" in answer.root_cause
    assert "(line 9)" in answer.root_cause
    assert "$ npx playwright test --project=chromium" in _quoted(answer)
    assert any("pays with a saved card" in text for text in _quoted(answer))


def test_travis_no_output_stall_names_the_command_and_its_last_words() -> None:
    log = """$ bundle install --jobs=3 --retry=3
Bundle complete! 12 Gemfile dependencies, 40 gems now installed.
$ bundle exec rspec spec/integration
Randomized with seed 4242
..........
Waiting for the Selenium session on port 4444...


No output has been received in the last 10m0s, this potentially indicates a stalled build or something wrong with the build itself.
Check the details on how to adjust your build configuration on: https://docs.travis-ci.com/user/common-build-problems/#build-times-out-because-no-output-was-received

The build has been terminated
"""
    answer = offline_answer(log)
    assert answer.category is Category.timeout
    assert "bundle exec rspec spec/integration" in answer.summary
    assert "Waiting for the Selenium session on port 4444..." in answer.summary
    assert "Waiting for the Selenium session on port 4444..." in _quoted(answer)


def test_github_actions_maximum_execution_time_is_a_timeout_with_the_running_step() -> None:
    log = """##[group]Run actions/checkout@v4
##[endgroup]
##[group]Run go test -race ./...
go test -race ./...
shell: /usr/bin/bash -e {0}
##[endgroup]
ok  	example.com/shop/cart	0.412s
=== RUN   TestSettlementLoop
##[error]The job running on runner GitHub Actions 3 has exceeded the maximum execution time of 360 minutes.
##[error]The operation was canceled.
"""
    answer = offline_answer(log)
    assert answer.category is Category.timeout
    assert "go test -race ./..." in answer.summary
    assert "TestSettlementLoop" in answer.summary


def test_jenkins_build_timeout_quotes_what_the_build_printed_last() -> None:
    log = """[Pipeline] sh
+ mvn -B verify
[INFO] Running com.example.ledger.SettlementIT
Build timed out (after 30 minutes). Marking the build as aborted.
Sending interrupt signal to process
[Pipeline] End of Pipeline
Finished: ABORTED
"""
    answer = offline_answer(log)
    assert answer.category is Category.timeout
    assert "com.example.ledger.SettlementIT" in answer.summary
    assert any("SettlementIT" in text for text in _quoted(answer))


def test_a_failure_that_is_not_a_timeout_gets_no_stall_sentence() -> None:
    log = """$ pytest -q
F
E       assert 300 == 270
FAILED tests/test_invoice.py::test_total - assert 300 == 270
ERROR: Job failed: exit code 1
"""
    answer = offline_answer(log)
    assert "was running" not in answer.root_cause
    assert "last output" not in answer.summary


def test_a_timeout_after_a_failed_test_does_not_name_that_test_as_what_stopped() -> None:
    log = """Running with gitlab-runner 17.6.0 (374d34fd)
$ pytest -v tests/
tests/test_api.py::test_health PASSED
tests/test_api.py::test_login FAILED
tests/test_api.py::test_export_waits_for_worker
section_end:1764493212:step_script
ERROR: Job failed: execution took longer than 1h0m0s seconds
"""
    answer = offline_answer(log)
    assert answer.category is Category.timeout
    assert answer.summary.startswith("ERROR: Job failed: execution took longer than 1h0m0s seconds")
    assert "test_login" not in answer.summary  # it had finished: the one still running is where the job was
    assert "last output: `tests/test_api.py::test_export_waits_for_worker`" in answer.summary
