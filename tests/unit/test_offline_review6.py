"""Review of the sixth round (branch review-offline6): ordinary CI logs on which the December 8 rules (a full disk
earlier in the job, `timeout`'s exit status 124, the monorepo task prefix) gave a wrong answer. Each log is a hand-
written tail in a CI's framing (test_offline_formats2's `job()`, formats3's `travis()`, formats4's `actions()`)."""

from __future__ import annotations

from bot.core.types import Category
from tests.unit.test_offline_formats import offline_answer
from tests.unit.test_offline_formats2 import job
from tests.unit.test_offline_formats3 import travis
from tests.unit.test_offline_formats4 import actions

JEST_FAILURE = r"""
$ npm test
> shop@1.0.0 test
> jest
FAIL src/cart.test.js
  ● Cart › applies a coupon
    expect(received).toBe(expected) // Object.is equality
    Expected: 90
    Received: 100
      12 |     expect(cart.total()).toBe(90);
      at Object.<anonymous> (src/cart.test.js:12:26)
Tests:       1 failed, 11 passed, 12 total
"""


def test_a_full_disk_in_a_step_allowed_to_fail_is_not_the_later_steps_failure() -> None:
    # `|| true`: the job went on, later steps ran and passed; the test that failed afterwards is the failure.
    log = job(
        "node:20",
        r"""
$ docker system prune -af || true
Error response from daemon: write /var/lib/docker/tmp/prune: no space left on device
$ df -h /
Filesystem      Size  Used Avail Use% Mounted on
overlay          78G   41G   37G  53% /
$ npm ci
added 812 packages in 21s
"""
        + JEST_FAILURE,
    )
    answer = offline_answer(log)
    assert "no space left" not in answer.summary.lower(), answer.summary
    assert "Expected: 90" in answer.summary
    assert answer.category is Category.test


def test_a_full_disk_in_a_retry_that_then_succeeded_is_not_the_failure() -> None:
    log = job(
        "docker:24",
        r"""
$ for i in 1 2 3; do docker pull registry.example.com/app:ci && break; sleep 5; done
failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x: no space left on device
ci: Pulling from app
Status: Downloaded newer image for registry.example.com/app:ci
$ ./run-tests.sh
Running 40 tests
test_checkout ... FAILED
AssertionError: expected 200, got 503
1 of 40 tests failed
""",
    )
    answer = offline_answer(log)
    assert answer.summary.startswith("AssertionError: expected 200, got 503"), answer.summary
    assert answer.category is not Category.infrastructure


def test_an_earlier_steps_warning_or_echoed_hint_about_a_full_disk_is_not_the_failure() -> None:
    # "Only a line that reports it as an error": a warning is reported as a warning, and an echoed hint is the
    # script's own words, printed by the `echo` above it.
    for earlier in (
        "$ ccache -s\nccache: warning: failed to write stats: No space left on device\n",
        "$ echo \"Hint: 'Disk quota exceeded' errors? clean ~/.cache\"\nHint: 'Disk quota exceeded' errors? clean ~/.cache\n",
    ):
        log = job(
            "rust:1.74",
            earlier
            + r"""
$ cargo build --release
   Compiling app v0.1.0 (/builds/acme/app)
error[E0425]: cannot find value `totl` in this scope
 --> src/main.rs:3:5
error: could not compile `app` (bin "app") due to 1 previous error
""",
            code=101,
        )
        answer = offline_answer(log)
        assert answer.summary.startswith("error[E0425]: cannot find value `totl` in this scope"), answer.summary
        assert answer.category is Category.build


def test_exit_status_124_from_a_command_that_is_not_timeout() -> None:
    # xargs exits 124 when the command it ran exited 255; a script may use 124 for anything.
    xargs = job(
        "python:3.12",
        r"""
$ find . -name '*.json' -print0 | xargs -0 -n1 ./validate.sh
validating ./a.json
./b.json: invalid: unexpected token at line 3
xargs: ./validate.sh: exited with status 255; aborting
""",
        code=124,
    )
    script = job(
        "python:3.12",
        r"""
$ ./scripts/check-licenses.sh
Checking 213 dependencies...
ERROR: package left-pad@1.3.0 has license WTFPL which is not allowed
""",
        code=124,
    )
    travis_log = travis(
        "./scripts/check-licenses.sh",
        "Checking 213 dependencies...\nERROR: package left-pad@1.3.0 has license WTFPL which is not allowed\n",
        code=124,
    )
    actions_log = actions(
        "./scripts/check-licenses.sh",
        "Checking 213 dependencies...\nERROR: package left-pad@1.3.0 has license WTFPL which is not allowed\n",
        code=124,
    )
    for log in (xargs, script, travis_log, actions_log):
        answer = offline_answer(log)
        assert answer.category is not Category.timeout, answer.summary
        assert "ran out of the time" not in answer.root_cause, answer.root_cause
        assert not answer.summary.startswith(("$ ", "The command", "##[group]")), answer.summary
    assert "left-pad@1.3.0 has license WTFPL" in offline_answer(script).summary
    assert "left-pad@1.3.0 has license WTFPL" in offline_answer(travis_log).summary


def test_a_command_stopped_by_timeout_is_named_above_after_script() -> None:
    # GitLab runs after_script after the failing command: its echoes are not the command that ran out of time.
    log = job(
        "docker:24",
        r"""
$ timeout 20m ./ci/integration.sh
starting services
waiting for port 8080
Running after_script
Running after script...
$ docker compose logs --tail 20 api
api-1  | listening on :8080
$ docker compose down
""",
        code=124,
    )
    answer = offline_answer(log)
    assert answer.summary.startswith("$ timeout 20m ./ci/integration.sh"), answer.summary
    assert answer.category is Category.timeout


def test_a_list_or_git_log_that_names_an_advisory_is_not_a_scanners_finding() -> None:
    # npm audit's "Title - https://github.com/advisories/GHSA-..." and pip-audit's "name version GHSA-..." row are
    # findings; release notes' bullet linking to one, or `git log --oneline`'s "a1b2c3d fix GHSA-..." are not.
    for notes in (
        "- bump lodash to 4.17.21 - https://github.com/advisories/GHSA-35jh-r3h4-6jhm\n- add cart totals\n",
        "9f3c2e1 fix GHSA-35jh-r3h4-6jhm in the parser\n4b7d0a2 add cart totals\n",
    ):
        log = job(
            "alpine/git:2.43",
            "$ ./scripts/release-notes.sh v2.4.0\n" + notes + "ERROR: version 2.4.0 is already tagged\n",
        )
        answer = offline_answer(log)
        assert answer.summary.startswith("ERROR: version 2.4.0 is already tagged"), answer.summary


def test_a_link_that_is_the_failures_own_detail_stays_in_the_statement() -> None:
    # Only a link to documentation ("More Info:", "Details:", "Reference:") is left out: a broken link's URL, the
    # endpoint that did not answer, are what failed.
    links = job(
        "lycheeverse/lychee",
        r"""
$ ./scripts/check-links.sh docs/
Checked 120 links in 14 files
ERROR: 2 links are broken
Broken: https://example.com/old-page
Not found: https://docs.example.com/v1/api
""",
    )
    ready = job(
        "alpine:3.19",
        "$ ./ci/wait-for-it.sh\nERROR: service did not become ready in 60s\nEndpoint: https://localhost:8443/ready\n",
    )
    summary = offline_answer(links).summary
    assert "https://example.com/old-page" in summary, summary
    assert "https://docs.example.com/v1/api" in summary, summary
    assert "https://localhost:8443/ready" in offline_answer(ready).summary


def test_a_route_table_line_is_not_a_deno_test_name() -> None:
    # Deno names a failing test "name => ./x_test.ts:12:6"; a router's table ("GET /x => src/x.ts:12:6") is not one.
    log = job(
        "node:20",
        r"""
$ node scripts/routes.js
GET /api/orders => src/routes/orders.ts:12:6
POST /api/cart => src/routes/cart.ts:40:2
Error: duplicate route GET /api/orders
""",
    )
    assert offline_answer(log).summary.startswith("Error: duplicate route GET /api/orders")


def test_a_finding_of_a_step_allowed_to_fail_is_not_the_jobs_failure() -> None:
    # pip-audit's row is a failure line now; printed by `pip-audit || true`, the job went on, and failed later.
    log = job(
        "python:3.12",
        r"""
$ pip-audit --ignore-vuln GHSA-h5c8-rqwp-cp95 || true
Name    Version ID                  Fix Versions
jinja2  3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3
$ ./release.sh
Releasing 2.4.0
tag 'v2.4.0' already exists
""",
    )
    answer = offline_answer(log)
    assert "GHSA" not in answer.summary, answer.summary
    assert answer.category is not Category.dependency


def test_a_fallback_that_fails_the_job_is_not_gone_on_after_by_after_script() -> None:
    # `|| (cat log; exit 1)` fails the job; after_script's commands run after it, but they are not the job going on.
    log = (
        "Running with gitlab-runner 16.6.1 (f5da3c5a)\n"
        'Executing "step_script" stage of the job script\n'
        "$ pip-audit -r requirements.txt || (cat audit.log; exit 1)\n"
        "Name    Version ID                  Fix Versions\n"
        "jinja2  3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3\n"
        "Running after_script\n"
        "Running after script...\n"
        "$ ls -la reports/\n"
        "total 0\n"
        "Cleaning up project directory and file based variables\n"
        "ERROR: Job failed: exit code 1\n"
    )
    answer = offline_answer(log)
    assert answer.summary.startswith("jinja2 3.1.2 GHSA-h5c8-rqwp-cp95"), answer.summary


def test_the_after_scripts_clean_up_failing_is_not_why_the_job_failed() -> None:
    # GitLab runs after_script after a failed script and ignores its exit status: a full disk while packing the
    # coverage report, or an upload that cannot reach its server, is not the test failure above it.
    for clean_up in (
        "$ tar czf coverage.tgz coverage/\ntar: coverage.tgz: Wrote only 4096 of 10240 bytes\n"
        "gzip: stdout: No space left on device\n",
        "$ curl -sSf -T report.xml https://reports.example.com/upload\n"
        "curl: (6) Could not resolve host: reports.example.com\n",
    ):
        log = job("node:20", JEST_FAILURE + "Running after_script\nRunning after script...\n" + clean_up)
        answer = offline_answer(log)
        assert "Cart › applies a coupon" in answer.summary and "Expected: 90" in answer.summary, answer.summary
        assert "No space left" not in answer.summary and "Could not resolve" not in answer.summary, answer.summary
        assert answer.category is Category.test


def test_the_after_script_is_still_read_when_the_script_printed_no_failure() -> None:
    # Nothing above says why (a script that exits 1 silently): the after_script's words are all there is.
    log = job(
        "alpine:3.19",
        "$ ./ci/check.sh\nchecking...\nRunning after_script\nRunning after script...\n$ cat ci/check.log\n"
        "ERROR: schema migration 0042_add_index is missing\n",
    )
    assert "schema migration 0042_add_index is missing" in offline_answer(log).summary


def test_a_command_that_printed_no_failure_word_is_stated_by_its_own_last_words() -> None:
    # GitLab stops at the first failing command, which the runner echoed last. When it printed no
    # failure word, its last words say why; an earlier command's weak failure word (apt's "W: Failed to fetch" for
    # a mirror it then did without) is not why the job failed.
    earlier = "$ apt-get update -qq\nW: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease\n"
    body = "checking 214 files\n3 files need formatting\n"
    answer = offline_answer(job("python:3.12", earlier + "$ ./scripts/check-format.sh\n" + body))
    assert "3 files need formatting" in answer.summary, answer.summary
    assert "Failed to fetch" not in answer.summary, answer.summary


def test_a_strong_failure_an_earlier_command_printed_is_still_read_when_the_failing_one_says_nothing() -> None:
    # `export V=$(git describe)` hides git's exit status: its `fatal:` is why the next command has nothing to work
    # with, and the next command printed no failure word of its own.
    log = job(
        "alpine:3.19",
        "$ export VERSION=$(git describe --tags)\nfatal: No names found, cannot describe anything.\n"
        "$ ./ci/package.sh\npackaging acme-tools\n",
    )
    assert "fatal: No names found" in offline_answer(log).summary
