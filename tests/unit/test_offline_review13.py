"""analyzer13: general classes of CI output where the offline analyzer chose or phrased the wrong line."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.heuristic_retries import RETRY, retried
from bot.core.heuristics import analyze
from bot.core.types import Excerpt, ExcerptLine

GITLAB_HEAD = (
    "Running with gitlab-runner 16.9.1 (782c6ecb)\n"
    "Executing \"step_script\" stage of the job script\n"
)
GITLAB_TAIL = "Cleaning up project directory and file based variables\nERROR: Job failed: exit code 1\n"


def answer(body: str):
    return analyze(excerpt(GITLAB_HEAD + body + GITLAB_TAIL), failure_reason="script_failure")


def test_a_download_retried_then_a_compile_error_names_the_compile_error():
    body = (
        "$ ./gradlew build\n"
        "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
        'Exception in thread "main" java.net.SocketTimeoutException: Read timed out\n'
        "Retrying download (2/3)\n"
        "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
        "> Task :lib:compileJava\n"
        "/builds/acme/lib/src/main/java/com/acme/lib/Parser.java:41: error: cannot find symbol\n"
        "    return Tokens.ofNullable(raw);\n"
        "1 error\n"
        "> Task :lib:compileJava FAILED\n"
        "BUILD FAILED in 22s\n"
    )
    got = answer(body)
    assert "Parser.java:41" in got.summary and "SocketTimeoutException" not in got.summary


def test_cargo_spurious_network_retries_are_followed_to_the_compiler_error():
    body = (
        "$ cargo build\n"
        "    Updating crates.io index\n"
        "warning: spurious network error (2 tries remaining): [28] Timeout was reached\n"
        "warning: spurious network error (1 tries remaining): [28] Timeout was reached\n"
        "  Downloaded serde v1.0.197\n"
        "   Compiling svc v0.1.0 (/builds/acme/svc)\n"
        "error[E0432]: unresolved import `crate::config::Settings`\n"
        " --> src/main.rs:3:5\n"
        "error: could not compile `svc` (bin \"svc\") due to 1 previous error\n"
    )
    got = answer(body)
    assert "E0432" in got.summary and "spurious" not in got.summary


def test_composer_retry_then_unresolvable_requirements():
    body = (
        "$ composer update --no-progress\n"
        'The "https://repo.packagist.org/p2/symfony/console.json" file could not be downloaded: failed to open stream: '
        "Connection timed out\n"
        "Retrying in 2 seconds...\n"
        "Updating dependencies\n"
        "Your requirements could not be resolved to an installable set of packages.\n"
        "\n"
        "  Problem 1\n"
        "    - Root composer.json requires php ^8.4 but your php version (8.3.4) does not satisfy that requirement.\n"
    )
    got = answer(body)
    assert "Your requirements could not be resolved" in got.summary and "packagist" not in got.summary


def test_a_retried_error_with_no_failure_after_it_stays_the_headline():
    body = (
        "$ curl -fsSL --retry 3 -o tool.tgz https://releases.acme.dev/tool.tgz\n"
        "curl: (56) Recv failure: Connection reset by peer\n"
        "Warning: Problem : connection reset. Will retry in 1 seconds. 3 retries left.\n"
        "Downloaded.\n"
    )
    assert "curl: (56)" in answer(body).summary


def test_retry_announcements_are_tools_words_not_command_options():
    assert RETRY.search("Warning: Problem : connection reset. Will retry in 1 seconds. 3 retries left.")
    assert RETRY.search('The command "pip install -r requirements.txt" failed. Retrying, 2 of 3.')
    assert RETRY.search("warning: spurious network error (1 tries remaining): [28] Timeout was reached")
    assert not RETRY.search("curl --retry 3 -o x https://x")
    assert not RETRY.search("test_retry_policy PASSED")


def test_a_retry_announced_by_a_later_command_is_not_this_errors_retry():
    lines = Excerpt(
        [
            ExcerptLine(1, "$ make lint"),
            ExcerptLine(2, "src/a.py:3:1: E302 expected 2 blank lines, found 1"),
            ExcerptLine(3, "$ ./deploy.sh"),
            ExcerptLine(4, "Retrying in 2 seconds..."),
            ExcerptLine(5, "ERROR: deploy failed"),
        ]
    )
    assert retried(lines, lines.lines[1]) is None
