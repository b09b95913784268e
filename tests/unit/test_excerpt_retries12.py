"""Several failures in one step: a failure the tool said it would retry, and did not print again, was got past; the
failure after it is why the step failed. A failure every attempt printed again is still the step's failure."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt

_BUILD = [f"  built chunk page-{i}.js  {i % 90 + 1} kB" for i in range(120)]
_MISSING = [
    "Error: Cannot find module './config/webpack.prod'",
    "Require stack:",
    "- /home/runner/work/web/web/scripts/build.js",
    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)",
    "    at Object.<anonymous> (/home/runner/work/web/web/scripts/build.js:4:16)",
    "",
    "error Command failed with exit code 1.",
    "##[error]Process completed with exit code 1.",
]


def _lead_text(log: list[str], budget: int) -> str:
    found = excerpt("\n".join(log) + "\n", budget)
    assert found.lead is not None
    return log[found.lead[0] - 1]


def test_a_download_the_tool_retried_does_not_lead_over_the_failure_after_it():
    log = ["##[group]Run ./ci/build.sh", "##[endgroup]", "yarn install v1.22.19", "[1/4] Resolving packages..."]
    log += [
        "info There appears to be trouble with your network connection. Retrying...",
        'error An unexpected error occurred: "https://registry.yarnpkg.com/react-dom/-/react-dom-18.2.0.tgz: ESOCKETTIMEDOUT".',
        "##[warning]Attempt 1 failed. Reason: Child_process exited with error code 1",
        "yarn install v1.22.19",
        "Done in 38.12s.",
        "yarn run v1.22.19",
    ]
    log += _BUILD + _MISSING
    assert _lead_text(log, 2000).startswith("Error: Cannot find module")


def test_a_failure_every_retry_printed_again_still_leads():
    log = ["$ ./ci/fetch-and-build.sh"]
    for attempt in (1, 2, 3):
        log += [
            "curl: (6) Could not resolve host: downloads.example.com",
            f"Warning: Problem : timeout. Will retry in 1 seconds. {3 - attempt} retries left.",
        ]
    log += _BUILD + ["Error: download of toolchain failed", "", 'The command "./ci/fetch-and-build.sh" exited with 1.']
    assert _lead_text(log, 2000).startswith("curl: (6) Could not resolve host")
