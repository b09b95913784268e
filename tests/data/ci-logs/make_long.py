"""Write the long logs of the CI-log corpus: thousands of lines of passing output around one failure.

    python tests/data/ci-logs/make_long.py           # (re)write the long logs and their labels where stale
    python tests/data/ci-logs/make_long.py --check   # exit 1 if the files differ from what it builds

The long logs are not committed (tests/data/ci-logs/.gitignore): `benchmarks/excerpt_cv.py`
calls `refresh()` before it scores the corpus, and the tests build them in memory.

The failure in each log is fixed text, written as the tool prints it; the lines a
maintainer would point at are marked with a leading "»" in the templates below (the
mark is removed from the log and becomes the label). The passing output around it
comes from a generator seeded per log, using only `random.Random.random()`, whose
sequence Python guarantees for a given seed, so the bytes are the same on every run
and machine. Only this script's own entries of labels.json are rewritten.

The framing helpers (`gitlab_job`, `gha_job`) print what GitLab Runner and GitHub
Actions print around a job's script, so every log of the corpus is framed alike.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = "»"
ESC = "\x1b"


# --- framing -----------------------------------------------------------------------------


def gitlab_job(
    image: str,
    project: str,
    script: list[str],
    *,
    exit_line: str = "ERROR: Job failed: exit code 1",
    start: int = 1764493200,
    after_script: list[str] | None = None,
    runner: str = "17.6.0 (374d34fd)",
    executor: str = "docker",
    upload_on_failure: list[str] | None = None,
) -> list[str]:
    """A GitLab CI job log: runner banner, sections with their markers, the script, the exit line.

    Script lines that start with "$ " are command echoes, coloured as the runner colours them.
    A mark on exit_line stays at the start of the log line."""
    t = start

    def section(name: str, title: str, lines: list[str]) -> list[str]:
        nonlocal t
        head = f"section_start:{t}:{name}\r{ESC}[0K{ESC}[0K{ESC}[36;1m{title}{ESC}[0;m{ESC}[0;m"
        t += 3 + len(lines) // 40
        return [head, *lines, f"section_end:{t}:{name}\r{ESC}[0K"]

    def echo(lines: list[str]) -> list[str]:
        return [f"{ESC}[32;1m{line}{ESC}[0;m" if line.startswith("$ ") else line for line in lines]

    out = [
        f"{ESC}[0KRunning with gitlab-runner {runner}{ESC}[0;m",
        f"{ESC}[0K  on acme-group-runner-2 t3_Xy9aBc, system ID: s_5d1c2b3a4f6e{ESC}[0;m",
    ]
    out += section(
        "prepare_executor",
        f'Preparing the "{executor}" executor',
        [
            f"{ESC}[0KUsing Docker executor with image {image} ...{ESC}[0;m",
            f"{ESC}[0KPulling docker image {image} ...{ESC}[0;m",
            f"{ESC}[0KUsing docker image sha256:7c4f1e0b9a2d for {image} with digest {image.split(':')[0]}"
            f"@sha256:0f9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0 ...{ESC}[0;m",
        ],
    )
    out += section(
        "prepare_script",
        "Preparing environment",
        ["Running on runner-t3xy9abc-project-4412-concurrent-0 via acme-group-runner-2..."],
    )
    out += section(
        "get_sources",
        "Getting source from Git repository",
        [
            f"{ESC}[32;1mFetching changes with git depth set to 20...{ESC}[0;m",
            f"Initialized empty Git repository in /builds/{project}/.git/",
            f"{ESC}[32;1mCreated fresh repository.{ESC}[0;m",
            f"{ESC}[32;1mChecking out 9f3c1e2a as detached HEAD (ref is refs/merge-requests/214/head)...{ESC}[0;m",
            "",
            f"{ESC}[32;1mSkipping Git submodules setup{ESC}[0;m",
        ],
    )
    out += section(
        "step_script",
        'Executing "step_script" stage of the job script',
        [
            f"{ESC}[0KUsing docker image sha256:7c4f1e0b9a2d for {image} with digest {image.split(':')[0]}"
            f"@sha256:0f9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0 ...{ESC}[0;m",
            *echo(script),
        ],
    )
    if after_script is not None:
        out += section(
            "after_script",
            "Running after_script",
            [f"{ESC}[32;1mRunning after script...{ESC}[0;m", *echo(after_script)],
        )
    if upload_on_failure is not None:
        out += section(
            "upload_artifacts_on_failure",
            "Uploading artifacts for failed job",
            [f"{ESC}[32;1mUploading artifacts...{ESC}[0;m", *upload_on_failure],
        )
    out += section("cleanup_file_variables", "Cleaning up project directory and file based variables", [])
    mark = MARK if exit_line.startswith(MARK) else ""
    out += ["", f"{mark}{ESC}[31;1m{exit_line[len(mark) :]}", f"{ESC}[0;m"]
    return out


def gha_job(
    repo: str, steps: list[tuple[str, list[str]]], failing: tuple[str, list[str], list[str]], exit_code: int = 1
) -> list[str]:
    """A GitHub Actions job log (as shown without timestamps): set-up, passing steps, the failing step.

    steps: (the `run:` command, its output); failing: (command, environment lines, output)."""
    out = [
        "Current runner version: '2.321.0'",
        "##[group]Operating System",
        "Ubuntu",
        "24.04.1",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-24.04",
        "Version: 20261124.1.0",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)",
        "Complete job name: test",
        "##[group]Run actions/checkout@v4",
        "with:",
        f"  repository: {repo}",
        "  token: ***",
        "  ssh-strict: true",
        "  persist-credentials: true",
        "  clean: true",
        "  fetch-depth: 1",
        "##[endgroup]",
        f"Syncing repository: {repo}",
        "##[group]Getting Git version info",
        f"Working directory is '/home/runner/work/{repo.split('/')[1]}/{repo.split('/')[1]}'",
        "[command]/usr/bin/git version",
        "git version 2.47.1",
        "##[endgroup]",
        "##[group]Fetching the repository",
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 "
        "origin +5e1d0c3f2b4a69788796a5b4c3d2e1f0a9b8c7d6:refs/remotes/origin/main",
        " * [new ref]         5e1d0c3f2b4a69788796a5b4c3d2e1f0a9b8c7d6 -> origin/main",
        "##[endgroup]",
        "##[group]Checking out the ref",
        "[command]/usr/bin/git checkout --progress --force -B main refs/remotes/origin/main",
        "Switched to a new branch 'main'",
        "branch 'main' set up to track 'origin/main'.",
        "##[endgroup]",
    ]
    for command, output in steps:
        out += [f"##[group]Run {command}", command, "shell: /usr/bin/bash -e {0}", "##[endgroup]", *output]
    command, env, output = failing
    out += [f"##[group]Run {command}", command, "shell: /usr/bin/bash -e {0}"]
    if env:
        out += ["env:", *(f"  {e}" for e in env)]
    out += [
        "##[endgroup]",
        *output,
        f"##[error]Process completed with exit code {exit_code}.",
        "Post job cleanup.",
        "[command]/usr/bin/git version",
        "git version 2.47.1",
        "Cleaning up orphan processes",
    ]
    return out


# --- seeded filler ---------------------------------------------------------------------


class Filler:
    """Deterministic choices: only Random.random() has a sequence Python promises to keep."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def below(self, n: int) -> int:
        return int(self.rng.random() * n)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def secs(self, hi: float = 0.05) -> float:
        return self.rng.random() * hi


WORDS = [
    "parse",
    "render",
    "merge",
    "split",
    "encode",
    "decode",
    "retry",
    "cache",
    "limit",
    "order",
    "refund",
    "invoice",
    "customer",
    "session",
    "token",
    "export",
    "import",
    "schedule",
    "rotate",
    "notify",
]
CASES = [
    "empty",
    "unicode",
    "large_input",
    "nil_map",
    "trailing_slash",
    "negative",
    "zero",
    "max_int",
    "utf16",
    "missing_key",
    "duplicate",
    "whitespace",
    "expired",
    "future_date",
    "leap_year",
]


def camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


# --- the long logs -------------------------------------------------------------------------


def go_verbose(f: Filler) -> tuple[list[str], str]:
    """`go test -v ./...` over twelve packages; one subtest fails in the fifth."""
    pkgs = [
        "auth",
        "cache",
        "clock",
        "duration",
        "loader",
        "merge",
        "metrics",
        "retry",
        "router",
        "store",
        "tenant",
        "webhook",
    ]
    out = []
    for pkg in pkgs:
        for k in range(18 + f.below(30)):
            name = "Test" + camel(f.pick(WORDS), f.pick(WORDS)) + str(k)
            subs = [f.pick(CASES) for _ in range(f.below(5))]
            out.append(f"=== RUN   {name}")
            for sub in subs:
                out.append(f"=== RUN   {name}/{sub}")
                if f.below(9) == 0:
                    out.append(f"    {pkg}_test.go:{40 + f.below(300)}: got expected error: context canceled")
            out.append(f"--- PASS: {name} ({f.secs():.2f}s)")
            out += [f"    --- PASS: {name}/{sub} (0.00s)" for sub in subs]
        if pkg == "loader":
            out += FAILING_GO_SUBTEST
            out += ["FAIL", f"»FAIL\tgithub.com/acme/cfg/{pkg}\t0.231s"]
        else:
            out += ["PASS", f"ok  \tgithub.com/acme/cfg/{pkg}\t{0.01 + f.secs(0.9):.3f}s"]
    out.append("FAIL")
    steps = [
        (
            "actions/setup-go@v5",
            [
                "Setup go version spec 1.22.5",
                "Found in cache @ /opt/hostedtoolcache/go/1.22.5/x64",
                "Added go to the path",
                "Successfully set up Go version 1.22.5",
            ],
        ),
        ("go mod download", []),
    ]
    log = gha_job("acme/cfg", steps, ("go test -v -count=1 ./...", ["GOTOOLCHAIN: local"], out))
    return log, "go"


FAILING_GO_SUBTEST = [
    "=== RUN   TestLoadConfig",
    "=== RUN   TestLoadConfig/defaults",
    "=== RUN   TestLoadConfig/empty_path",
    '»    loader_test.go:88: Load(""): unexpected error: open : no such file or directory',
    "=== RUN   TestLoadConfig/env_override",
    "--- FAIL: TestLoadConfig (0.01s)",
    "    --- PASS: TestLoadConfig/defaults (0.00s)",
    "»    --- FAIL: TestLoadConfig/empty_path (0.00s)",
    "    --- PASS: TestLoadConfig/env_override (0.00s)",
]


def unittest_matrix(f: Filler) -> tuple[list[str], str]:
    """tox over py310, py311, py312 with verbose unittest; py311 fails, py312 runs after it."""
    modules = ["test_money", "test_invoice", "test_tax", "test_fx", "test_ledger", "test_export", "test_dunning"]
    tests = [
        (m, camel(m[5:]) + "Tests", f"test_{f.pick(WORDS)}_{f.pick(CASES)}_{k}")
        for m in modules
        for k in range(150 + f.below(80))
    ]
    out = []
    for env, _version in (("py310", "3.10.15"), ("py311", "3.11.10"), ("py312", "3.12.7")):
        out += [
            f"{env}: install_deps> python -I -m pip install -r requirements-test.txt",
            f"{env}: commands[0]> python -m unittest discover -v -s src",
        ]
        for module, cls, name in tests:
            qual = f"billing.tests.{module}.{cls}"
            shown = f"{name} ({qual})" if env == "py310" else f"{name} ({qual}.{name})"
            if module == "test_money" and name == tests[17][2]:
                verdict = "FAIL" if env == "py311" else "ok"
                rounded = f"({qual})" if env == "py310" else f"({qual}.test_round_half_even)"
                out.append(f"test_round_half_even {rounded} ... {verdict}")
            if f.below(25) == 0:
                out.append(f"WARNING:billing.fx:rate cache miss for {f.pick(['EUR', 'USD', 'CHF'])}/GBP, refetching")
            out.append(f"{shown} ... ok")
        if env == "py311":
            out += UNITTEST_FAILURE
            out += [
                "",
                "----------------------------------------------------------------------",
                f"Ran {len(tests) + 1} tests in 6.204s",
                "",
                "»FAILED (failures=1)",
                f"{env}: exit 1 (31.93 seconds) /builds/acme/billing> python -m unittest discover -v -s src pid=214",
            ]
        else:
            out += [
                "",
                "----------------------------------------------------------------------",
                f"Ran {len(tests) + 1} tests in {5 + f.secs(2):.3f}s",
                "",
                "OK",
                f"{env}: OK ✔ in {30 + f.secs(5):.2f} seconds",
            ]
    out += [
        "  py310: OK (41.12=setup[8.40]+cmd[32.72] seconds)",
        "»  py311: FAIL code 1 (39.88=setup[7.95]+cmd[31.93] seconds)",
        "  py312: OK (40.37=setup[8.11]+cmd[32.26] seconds)",
        "  evaluation failed :( (121.41 seconds)",
    ]
    script = ["$ pip install -q tox==4.23.2", "$ tox run -e py310,py311,py312", *out]
    return gitlab_job("python:3.12-bookworm", "acme/billing", script), "python"


UNITTEST_FAILURE = [
    "",
    "======================================================================",
    "»FAIL: test_round_half_even (billing.tests.test_money.MoneyTests.test_round_half_even)",
    "----------------------------------------------------------------------",
    "Traceback (most recent call last):",
    '»  File "/builds/acme/billing/src/billing/tests/test_money.py", line 57, in test_round_half_even',
    '»    self.assertEqual(Money("2.675").rounded(), Money("2.68"))',
    "»AssertionError: Money('2.67') != Money('2.68')",
]


def pytest_verbose(f: Filler) -> tuple[list[str], str]:
    """pytest -v over 3,000 parametrised tests; one fails mid-run; a warnings summary follows."""
    files = [
        "tests/test_tax.py",
        "tests/test_invoice.py",
        "tests/test_customers.py",
        "tests/test_exports.py",
        "tests/test_webhooks.py",
        "tests/test_reports.py",
    ]
    total = 3128
    out = [
        "============================= test session starts ==============================",
        "platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0 -- /usr/local/bin/python",
        "cachedir: .pytest_cache",
        "rootdir: /home/runner/work/invoicing/invoicing",
        "configfile: pyproject.toml",
        "plugins: cov-6.0.0, xdist-3.6.1, anyio-4.6.2",
        f"collecting ... collected {total} items",
        "",
    ]
    fail_at = 1211
    for k in range(total):
        if k == fail_at:
            out.append(f"tests/test_tax.py::test_vat[AT-20] FAILED{'':<34}[{100 * (k + 1) // total:3d}%]")
            continue
        path = f.pick(files)
        name = f"test_{f.pick(WORDS)}_{f.pick(CASES)}[{f.pick(['DE', 'FR', 'AT', 'NL', 'IT'])}-{k % 40}]"
        item = f"{path}::{name} PASSED"
        out.append(f"{item:<79}[{100 * (k + 1) // total:3d}%]")
    out += PYTEST_FAILURE
    out.append("=============================== warnings summary ===============================")
    for k in range(14):
        out += [
            f"tests/{f.pick(['test_reports.py', 'test_exports.py'])}::test_{f.pick(WORDS)}_{k}",
            "  /opt/hostedtoolcache/Python/3.12.7/x64/lib/python3.12/site-packages/dateutil/tz/tz.py:37: "
            "DeprecationWarning: datetime.datetime.utcfromtimestamp() is deprecated and scheduled for removal "
            "in a future version. Use timezone-aware objects to represent datetimes in UTC: "
            "datetime.datetime.fromtimestamp(timestamp, datetime.UTC).",
            "    EPOCH = datetime.datetime.utcfromtimestamp(0)",
            "",
        ]
    out += [
        "-- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html",
        "=========================== short test summary info ============================",
        "»FAILED tests/test_tax.py::test_vat[AT-20] - AssertionError: assert Decimal('19.00') == Decimal('20')",
        f"================= 1 failed, {total - 1} passed, 14 warnings in 48.12s ==================",
    ]
    steps = [
        ("actions/setup-python@v5", ["Successfully set up CPython (3.12.7)"]),
        ("pip install -e '.[test]'", ["Successfully installed invoicing-0.1.0"]),
    ]
    return gha_job("acme/invoicing", steps, ("pytest -v", [], out)), "python"


PYTEST_FAILURE = [
    "",
    "=================================== FAILURES ===================================",
    "»_______________________________ test_vat[AT-20] ________________________________",
    "",
    "country = 'AT', rate = 20",
    "",
    '    @pytest.mark.parametrize("country,rate", VAT_CASES)',
    "    def test_vat(country, rate):",
    '        invoice = Invoice(net=Decimal("100.00"), country=country)',
    "»>       assert invoice.vat == Decimal(rate)",
    "»E       AssertionError: assert Decimal('19.00') == Decimal('20')",
    "»E        +  where Decimal('19.00') = <Invoice net=100.00 country=AT>.vat",
    "E        +  and   Decimal('20') = Decimal(20)",
    "",
    "»tests/test_tax.py:31: AssertionError",
]


def maven_multimodule(f: Filler) -> tuple[list[str], str]:
    """mvn -B verify over four modules: downloads, surefire runs; a test fails in ledger-core."""
    groups = [
        "org/apache/commons/commons-lang3/3.17.0/commons-lang3-3.17.0",
        "com/fasterxml/jackson/core/jackson-databind/2.18.1/jackson-databind-2.18.1",
        "org/junit/jupiter/junit-jupiter-api/5.11.3/junit-jupiter-api-5.11.3",
        "org/slf4j/slf4j-api/2.0.16/slf4j-api-2.0.16",
        "ch/qos/logback/logback-classic/1.5.12/logback-classic-1.5.12",
        "org/postgresql/postgresql/42.7.4/postgresql-42.7.4",
        "org/apache/maven/plugins/maven-surefire-plugin/3.5.2/maven-surefire-plugin-3.5.2",
        "io/micrometer/micrometer-core/1.14.1/micrometer-core-1.14.1",
    ]
    out = [
        "[INFO] Scanning for projects...",
        "[INFO] ------------------------------------------------------------------------",
        "[INFO] Reactor Build Order:",
        "[INFO] ",
        "[INFO] acme-platform                                                      [pom]",
        "[INFO] ledger-api                                                         [jar]",
        "[INFO] ledger-core                                                        [jar]",
        "[INFO] ledger-web                                                         [jar]",
        "[INFO] ",
    ]
    for _k in range(900):
        coords = f.pick(groups)
        ext = f.pick(["pom", "jar"])
        url = f"https://repo.maven.apache.org/maven2/{coords}.{ext}"
        out += [
            f"[INFO] Downloading from central: {url}",
            f"[INFO] Downloaded from central: {url} ({1 + f.below(900)}.{f.below(10)} kB at {50 + f.below(900)} kB/s)",
        ]
    for module, classes in (("ledger-api", 24), ("ledger-core", 31)):
        out += [
            "[INFO] ",
            f"[INFO] -----------------------< com.acme:{module} >------------------------",
            f"[INFO] Building {module} 3.4.0-SNAPSHOT",
            "[INFO]   from pom.xml",
            "[INFO] --------------------------------[ jar ]---------------------------------",
            "[INFO] --- surefire:3.5.2:test (default-test) @ " + module + " ---",
            "[INFO] Using auto detected provider org.apache.maven.surefire.junitplatform.JUnitPlatformProvider",
            "[INFO] ",
            "[INFO] -------------------------------------------------------",
            "[INFO]  T E S T S",
            "[INFO] -------------------------------------------------------",
        ]
        for c in range(classes):
            if module == "ledger-core" and c == 19:
                out += MAVEN_TEST_FAILURE
            cls = f"com.acme.ledger.{camel(f.pick(WORDS), f.pick(WORDS))}{c}Test"
            out.append(f"[INFO] Running {cls}")
            for _ in range(f.below(4)):
                out.append(
                    f"09:0{f.below(10)}:{10 + f.below(49)}.{f.below(1000):03d} [main] "
                    f"{f.pick(['INFO', 'INFO', 'WARN', 'ERROR'])} com.acme.ledger.Importer - "
                    f"rejected row {f.below(400)}: negative amount (expected in this test)"
                )
            out.append(
                f"[INFO] Tests run: {1 + f.below(20)}, Failures: 0, Errors: 0, Skipped: 0, "
                f"Time elapsed: {f.secs(2):.3f} s -- in {cls}"
            )
        if module == "ledger-api":
            out += [
                "[INFO] ",
                "[INFO] Results:",
                "[INFO] ",
                "[INFO] Tests run: 188, Failures: 0, Errors: 0, Skipped: 0",
                "[INFO] ",
            ]
    out += MAVEN_RESULTS
    script = ["$ mvn -B verify", *out]
    return gitlab_job("maven:3.9.9-eclipse-temurin-21", "finance/platform", script), "jvm"


MAVEN_TEST_FAILURE = [
    "[INFO] Running com.acme.ledger.BalanceTest",
    "[ERROR] Tests run: 8, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.213 s <<< FAILURE! -- in com.acme.ledger.BalanceTest",
    "[ERROR] com.acme.ledger.BalanceTest.carriesOverNegativeBalance -- Time elapsed: 0.012 s <<< FAILURE!",
    "org.opentest4j.AssertionFailedError: expected: <-15.00> but was: <15.00>",
    "\tat org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
    "\tat org.junit.jupiter.api.AssertionFailureBuilder.buildAndThrow(AssertionFailureBuilder.java:132)",
    "\tat org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
    "\tat org.junit.jupiter.api.AssertEquals.assertEquals(AssertEquals.java:182)",
    "\tat org.junit.jupiter.api.Assertions.assertEquals(Assertions.java:1156)",
    "\tat com.acme.ledger.BalanceTest.carriesOverNegativeBalance(BalanceTest.java:77)",
    "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)",
    "\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1596)",
    "\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1596)",
    "",
]

MAVEN_RESULTS = [
    "[INFO] ",
    "[INFO] Results:",
    "[INFO] ",
    "»[ERROR] Failures: ",
    "»[ERROR]   BalanceTest.carriesOverNegativeBalance:77 expected: <-15.00> but was: <15.00>",
    "[INFO] ",
    "»[ERROR] Tests run: 412, Failures: 1, Errors: 0, Skipped: 2",
    "[INFO] ",
    "[INFO] ------------------------------------------------------------------------",
    "[INFO] Reactor Summary for acme-platform 3.4.0-SNAPSHOT:",
    "[INFO] ",
    "[INFO] acme-platform ...................................... SUCCESS [  0.412 s]",
    "[INFO] ledger-api ......................................... SUCCESS [ 14.120 s]",
    "[INFO] ledger-core ........................................ FAILURE [ 21.877 s]",
    "[INFO] ledger-web ......................................... SKIPPED",
    "[INFO] ------------------------------------------------------------------------",
    "[INFO] BUILD FAILURE",
    "[INFO] ------------------------------------------------------------------------",
    "[INFO] Total time:  58.301 s",
    "[INFO] Finished at: 2026-11-30T09:06:12Z",
    "[INFO] ------------------------------------------------------------------------",
    "»[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.5.2:test (default-test) "
    "on project ledger-core: There are test failures.",
    "[ERROR] ",
    "[ERROR] Please refer to /builds/finance/platform/ledger-core/target/surefire-reports for the individual test results.",
    "[ERROR] Please refer to dump files (if any exist) [date].dump, [date]-jvmRun[N].dump and [date].dumpstream.",
    "[ERROR] -> [Help 1]",
    "[ERROR] ",
    "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
    "[ERROR] Re-run Maven using the -X switch to enable full debug logging.",
    "[ERROR] ",
    "[ERROR] For more information about the errors and possible solutions, please read the following articles:",
    "[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MojoFailureException",
    "[ERROR] ",
    "[ERROR] After correcting the problems, you can resume the build with the command",
    "[ERROR]   mvn <args> -rf :ledger-core",
]

# --- noise that real jobs print around their failures ------------------------------------

PACKAGES = [
    "inflight@1.0.6",
    "glob@7.2.3",
    "rimraf@3.0.2",
    "abab@2.0.6",
    "domexception@4.0.0",
    "w3c-hr-time@1.0.2",
    "sourcemap-codec@1.4.8",
    "stable@0.1.8",
    "querystring@0.2.0",
    "uuid@3.4.0",
    "request@2.88.2",
    "har-validator@5.1.5",
    "osenv@0.1.5",
    "svgo@1.3.2",
    "q@1.5.1",
    "workbox-cacheable-response@6.6.0",
]
PYPI = [
    ("numpy", "2.1.3"),
    ("pandas", "2.2.3"),
    ("requests", "2.32.3"),
    ("urllib3", "2.2.3"),
    ("django", "5.1.3"),
    ("psycopg", "3.2.3"),
    ("celery", "5.4.0"),
    ("kombu", "5.4.2"),
    ("redis", "5.2.0"),
    ("boto3", "1.35.71"),
    ("botocore", "1.35.71"),
    ("s3transfer", "0.10.4"),
    ("pillow", "11.0.0"),
    ("lxml", "5.3.0"),
    ("pydantic", "2.10.2"),
    ("pydantic-core", "2.27.1"),
    ("sqlalchemy", "2.0.36"),
    ("gunicorn", "23.0.0"),
]
CRATES = [
    "serde",
    "serde_json",
    "tokio",
    "hyper",
    "http",
    "bytes",
    "futures-util",
    "tracing",
    "clap",
    "regex",
    "aho-corasick",
    "memchr",
    "once_cell",
    "libc",
    "mio",
    "socket2",
    "rustls",
    "ring",
    "untrusted",
    "anyhow",
]


def npm_install_noise(f: Filler, n: int) -> list[str]:
    out = [
        f"npm warn deprecated {f.pick(PACKAGES)}: This module is not supported, and leaks memory. Do not use it."
        if f.below(3) == 0
        else f"npm warn deprecated {f.pick(PACKAGES)}: Rimraf versions prior to v4 are no longer supported"
        for _ in range(n)
    ]
    return out + [
        "",
        f"added {1200 + f.below(400)} packages, and audited {1600 + f.below(100)} packages in {30 + f.below(30)}s",
        "",
        "212 packages are looking for funding",
        "  run `npm fund` for details",
        "",
        "3 vulnerabilities (1 moderate, 2 high)",
        "",
        "To address all issues, run:",
        "  npm audit fix",
        "",
        "Run `npm audit` for details.",
    ]


def pip_install_noise(f: Filler, n: int, prefix: str = "") -> list[str]:
    out = []
    for _ in range(n):
        name, version = f.pick(PYPI)
        size = f"{1 + f.below(900)}.{f.below(10)} kB"
        out += [
            f"{prefix}Collecting {name}=={version}",
            f"{prefix}  Downloading {name.replace('-', '_')}-{version}-py3-none-any.whl.metadata ({f.below(9) + 1}.{f.below(10)} kB)",
            f"{prefix}  Downloading {name.replace('-', '_')}-{version}-py3-none-any.whl ({size})",
            f"{prefix}     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ {size} {1 + f.below(40)}.{f.below(10)} MB/s eta 0:00:00",
        ]
    return out


def go_goroutines(f: Filler, n: int) -> list[str]:
    """Idle goroutines of a test binary's HTTP clients, pools and timers."""
    kinds = [
        (
            "IO wait",
            [
                "internal/poll.runtime_pollWait(0x7f2c1c3e1e28, 0x72)",
                "\t/usr/local/go/src/runtime/netpoll.go:351 +0x85",
                "net.(*conn).Read(0xc0001a4040, {0xc000312000?, 0x1000?, 0x0?})",
                "\t/usr/local/go/src/net/net.go:189 +0x45",
                "net/http.(*persistConn).readLoop(0xc0002b67e0)",
                "\t/usr/local/go/src/net/http/transport.go:2205 +0x185",
            ],
        ),
        (
            "select",
            [
                "net/http.(*persistConn).writeLoop(0xc0002b67e0)",
                "\t/usr/local/go/src/net/http/transport.go:2519 +0xe7",
                "created by net/http.(*Transport).dialConn in goroutine 61",
                "\t/usr/local/go/src/net/http/transport.go:1875 +0x15a5",
            ],
        ),
        (
            "chan receive",
            [
                "github.com/acme/replica/internal/pool.(*Pool).worker(0xc000118380)",
                "\t/builds/acme/replica/internal/pool/pool.go:58 +0x6a",
                "created by github.com/acme/replica/internal/pool.New in goroutine 12",
                "\t/builds/acme/replica/internal/pool/pool.go:31 +0x125",
            ],
        ),
        (
            "sleep",
            [
                "time.Sleep(0x3b9aca00)",
                "\t/usr/local/go/src/runtime/time.go:285 +0xf2",
                "github.com/acme/replica/internal/metrics.(*Flusher).loop(0xc0000a2e40)",
                "\t/builds/acme/replica/internal/metrics/flush.go:40 +0x4f",
            ],
        ),
    ]
    out = []
    for k in range(n):
        state, frames = f.pick(kinds)
        out += [f"goroutine {200 + 3 * k} [{state}, {1 + f.below(9)} minutes]:", *frames, ""]
    return out


# --- more long logs ------------------------------------------------------------------------


def go_test_timeout(f: Filler) -> tuple[list[str], str]:
    """go test -timeout: the panic names the test, then hundreds of goroutines follow it."""
    pkgs = ["api", "auth", "codec", "store", "wal"]
    out = ["go: downloading google.golang.org/grpc v1.68.0", "go: downloading github.com/cockroachdb/pebble v1.1.2"]
    out += [f"ok  \tgithub.com/acme/replica/{p}\t{1 + f.secs(30):.3f}s" for p in pkgs]
    out += [
        "»panic: test timed out after 10m0s",
        "»running tests:",
        "»\tTestSyncLoop (10m0s)",
        "»\tTestSyncLoop/slow_remote (9m58s)",
        "",
        "goroutine 1043 [running]:",
        "testing.(*M).startAlarm.func1()",
        "\t/usr/local/go/src/testing/testing.go:2373 +0x385",
        "created by time.goFunc",
        "\t/usr/local/go/src/time/sleep.go:215 +0x2d",
        "",
        "goroutine 1 [chan receive, 9 minutes]:",
        "testing.(*T).Run(0xc000007380, {0x8d1b4e?, 0x0?}, 0x90d3b0)",
        "\t/usr/local/go/src/testing/testing.go:1751 +0x3ab",
        "testing.runTests.func1(0xc000007380)",
        "\t/usr/local/go/src/testing/testing.go:2168 +0x37",
        "main.main()",
        "\t_testmain.go:61 +0x195",
        "",
    ]
    out += go_goroutines(f, 40)
    out += [
        "goroutine 87 [select, 9 minutes]:",
        "»github.com/acme/replica/syncer.(*Loop).waitForAck(0xc0001a2000, {0x9a8e60, 0xc0000b4000})",
        "»\t/builds/acme/replica/syncer/loop.go:143 +0x1f4",
        "»github.com/acme/replica/syncer.TestSyncLoop.func2(0xc000582b60)",
        "»\t/builds/acme/replica/syncer/loop_test.go:77 +0x2b1",
        "testing.tRunner(0xc000582b60, 0xc0001f6090)",
        "\t/usr/local/go/src/testing/testing.go:1690 +0xf4",
        "created by testing.(*T).Run in goroutine 86",
        "\t/usr/local/go/src/testing/testing.go:1743 +0x390",
        "",
    ]
    out += go_goroutines(f, 220)
    out += [
        "»FAIL\tgithub.com/acme/replica/syncer\t600.412s",
        "ok  \tgithub.com/acme/replica/transport\t3.118s",
        "FAIL",
    ]
    script = ["$ go test -race -timeout 10m ./...", *out]
    return gitlab_job("golang:1.23.3-bookworm", "acme/replica", script), "go"


def go_compose_logs(f: Filler) -> tuple[list[str], str]:
    """An integration test fails on a 500; the reason is in the service logs the after_script dumps."""
    out = [f"ok  \tgitlab.example.com/shop/checkout/internal/{p}\t{f.secs(2):.3f}s" for p in ("cart", "tax", "money")]
    out += [
        "»--- FAIL: TestCheckoutFlow (2.31s)",
        "»    checkout_test.go:118: POST /orders: status 500, want 201",
        "FAIL",
        "»FAIL\tgitlab.example.com/shop/checkout/it\t4.912s",
        "FAIL",
    ]
    logs = []
    for k in range(700):
        service = f.pick(["api", "api", "db", "proxy", "worker"])
        ts = f"2026-11-30T09:{14 + k // 120:02d}:{(k // 2) % 60:02d}.{f.below(1000):03d}Z"
        if k == 433:
            logs.append(
                f'»checkout-api-1     | {{"level":"error","ts":"{ts}","msg":"insert order",'
                f'"error":"pq: column \\"coupon_code\\" of relation \\"orders\\" does not exist","request_id":"b41f09"}}'
            )
            continue
        if service == "db":
            line = f.pick(
                [
                    "LOG:  checkpoint starting: time",
                    "LOG:  checkpoint complete: wrote 14 buffers (0.1%)",
                    'ERROR:  duplicate key value violates unique key constraint "sessions_pkey"',
                    "LOG:  could not receive data from client: Connection reset by peer",
                ]
            )
            logs.append(f"checkout-db-1      | {ts} UTC [{60 + f.below(40)}] {line}")
        elif service == "proxy":
            logs.append(
                f'checkout-proxy-1   | 172.18.0.1 - - [30/Nov/2026:09:14:{k % 60:02d} +0000] "GET /healthz HTTP/1.1" '
                f'200 2 "-" "curl/8.5.0"'
            )
        else:
            level = f.pick(["info", "info", "info", "warn", "error"])
            msg = {"info": "request served", "warn": "slow query", "error": "redis: connection pool timeout, retrying"}[
                level
            ]
            logs.append(
                f'checkout-{service}-1{" " * (7 - len(service))}| {{"level":"{level}","ts":"{ts}","msg":"{msg}",'
                f'"duration_ms":{f.below(900)}}}'
            )
    script = [
        "$ docker compose -f ci/compose.it.yml up -d --wait",
        " Container checkout-db-1  Healthy",
        " Container checkout-api-1  Healthy",
        "$ go test -count=1 ./...",
        *out,
    ]
    after = [
        "$ docker compose -f ci/compose.it.yml logs --no-color",
        *logs,
        "$ docker compose -f ci/compose.it.yml down -v",
        " Container checkout-api-1  Stopping",
        " Container checkout-api-1  Removed",
        " Network checkout_default  Removed",
    ]
    return gitlab_job("registry.acme.dev/ci/go-docker:1.23", "shop/checkout", script, after_script=after), "go"


def jest_coverage(f: Filler) -> tuple[list[str], str]:
    """npm ci's warnings, 120 jest suites with console noise, one failure, then the coverage table."""
    out = npm_install_noise(f, 140) + ["$ npx jest --ci --coverage"]
    for k in range(120):
        suite = f"src/{f.pick(['cart', 'orders', 'auth', 'catalog', 'search', 'profile'])}/{f.pick(WORDS)}{k}.test.ts"
        if k == 57:
            out += JEST_FAILURE
            continue
        out.append(f"PASS {suite}" + (f" ({1 + f.secs(9):.3f} s)" if f.below(4) == 0 else ""))
        if f.below(6) == 0:
            out += [
                "  ● Console",
                "",
                "    console.error",
                f"      Error: Request failed with status code {f.pick(['401', '404', '500'])}",
                "          at createError (/builds/web/shop/node_modules/axios/lib/core/createError.js:16:15)",
                "          at settle (/builds/web/shop/node_modules/axios/lib/core/settle.js:17:12)",
                "",
                f"      at Object.<anonymous> ({suite}:{10 + f.below(90)}:13)",
                "",
            ]
    out += [
        "-------------------------------|---------|----------|---------|---------|-------------------",
        "File                           | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s ",
        "-------------------------------|---------|----------|---------|---------|-------------------",
        "All files                      |   87.41 |    79.02 |   84.17 |   87.93 |                   ",
    ]
    for k in range(520):
        name = f"{f.pick(WORDS)}{k}.ts"
        nums = [f"{60 + f.secs(40):6.2f}" for _ in range(4)]
        out.append(
            f"  {name:<29}|  {nums[0]} |   {nums[1]} |  {nums[2]} |  {nums[3]} | {10 + f.below(200)}-{210 + f.below(90)}"
        )
    out += [
        "-------------------------------|---------|----------|---------|---------|-------------------",
        "",
        "Test Suites: 1 failed, 119 passed, 120 total",
        "Tests:       1 failed, 1874 passed, 1875 total",
        "Snapshots:   42 passed, 42 total",
        "Time:        84.112 s",
        "Ran all test suites.",
    ]
    script = ["$ npm ci --no-fund", *out]
    return gitlab_job("node:20.18-bookworm", "web/shop", script), "node"


JEST_FAILURE = [
    "FAIL src/orders/refunds.test.ts",
    "»  ● refunds › partial refund keeps the shipping fee",
    "",
    "    expect(received).toEqual(expected) // deep equality",
    "",
    "    - Expected  - 1",
    "    + Received  + 1",
    "",
    "      Object {",
    '»    -   "amount": 1490,',
    '»    +   "amount": 1990,',
    '        "currency": "EUR",',
    "      }",
    "",
    '      61 |     const refund = refundOrder(order, { items: ["sku-2"] });',
    '»    > 62 |     expect(refund).toEqual({ amount: 1490, currency: "EUR" });',
    "         |                    ^",
    "      63 |   });",
    "",
    "»      at Object.toEqual (src/orders/refunds.test.ts:62:20)",
    "",
]


def cargo_warnings(f: Filler) -> tuple[list[str], str]:
    """cargo build: hundreds of crates compiled, dozens of warnings with code frames, one error among them."""
    out = ["    Updating crates.io index"]
    out += [f"  Downloaded {f.pick(CRATES)} v{f.below(3)}.{f.below(40)}.{f.below(20)}" for _ in range(120)]
    out += [f"   Compiling {f.pick(CRATES)} v{f.below(3)}.{f.below(40)}.{f.below(20)}" for _ in range(260)]
    out.append("   Compiling acme-cli v0.9.0 (/home/runner/work/acme-cli/acme-cli)")
    for k in range(150):
        var = f.pick(["resp", "cfg", "idx", "handle", "tx", "buf"])
        line = 20 + f.below(400)
        if k == 23:
            out += CARGO_ERROR
        out += (
            [
                f"warning: unused variable: `{var}`",
                f"  --> src/{f.pick(['cmd', 'net', 'store', 'ui'])}/{f.pick(WORDS)}.rs:{line}:13",
                "   |",
                f"{line} |         let {var} = client.send(req).await?;",
                "   |             ^^^ help: if this is intentional, prefix it with an underscore: `_" + var + "`",
                "   |",
            ]
            + (["   = note: `#[warn(unused_variables)]` on by default"] if k == 0 else [])
            + [""]
        )
    out += [
        'warning: `acme-cli` (bin "acme") generated 150 warnings',
        '»error: could not compile `acme-cli` (bin "acme") due to 1 previous error; 150 warnings emitted',
    ]
    steps = [("dtolnay/rust-toolchain@stable", ["rustc 1.83.0 (90b35a623 2024-11-26)"])]
    return gha_job(
        "acme/acme-cli", steps, ("cargo build --release --locked", ["CARGO_TERM_COLOR: never"], out), exit_code=101
    ), "rust"


CARGO_ERROR = [
    "»error[E0599]: no method named `retry_with` found for struct `RequestBuilder` in the current scope",
    "»   --> src/net/upload.rs:88:14",
    "    |",
    "87  |       let resp = client.put(url)",
    "88  | /         .retry_with(policy)",
    "»   |          ^^^^^^^^^^ method not found in `RequestBuilder`",
    "    |",
    "",
]


def docker_pip(f: Filler) -> tuple[list[str], str]:
    """docker buildx: a long pip install inside RUN, then collectstatic fails with a Python traceback."""
    out = [
        '#0 building with "default" instance using docker driver',
        "",
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 1.21kB done",
        "#1 DONE 0.0s",
        "",
        "#9 [app 4/8] RUN pip install --no-cache-dir -r requirements.txt",
    ]
    t = 0.4
    for line in pip_install_noise(f, 160):
        t += f.secs(0.2)
        out.append(f"#9 {t:.3f} {line}")
    out += [
        f"#9 {t + 3.1:.3f} Successfully installed " + " ".join(f"{n}-{v}" for n, v in PYPI),
        "#9 DONE 41.2s",
        "",
        "#10 [app 5/8] COPY . .",
        "#10 DONE 0.3s",
        "",
        "#11 [app 6/8] RUN python manage.py collectstatic --noinput",
    ]
    # the mark goes before BuildKit's step prefix, where unmark() looks for it
    out += [
        f"{MARK if line.startswith(MARK) else ''}#11 {1.2 + k * 0.001:.3f} {line.lstrip(MARK)}"
        for k, line in enumerate(DJANGO_TRACEBACK)
    ]
    out += [
        '»#11 ERROR: process "/bin/sh -c python manage.py collectstatic --noinput" did not complete successfully: exit code: 1',
        "------",
        " > [app 6/8] RUN python manage.py collectstatic --noinput:",
    ]
    out += [f"{1.2 + k * 0.001:.3f} {line.lstrip(MARK)}" for k, line in enumerate(DJANGO_TRACEBACK[-5:])]
    out += [
        "------",
        "Dockerfile:14",
        "--------------------",
        "  13 |     COPY . .",
        "  14 | >>> RUN python manage.py collectstatic --noinput",
        "  15 |     USER app",
        "--------------------",
        'ERROR: failed to solve: process "/bin/sh -c python manage.py collectstatic --noinput" did not complete successfully: exit code: 1',
    ]
    script = ["$ docker buildx build --pull -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA .", *out]
    return gitlab_job("docker:27.3.1", "web/portal", script), "container"


DJANGO_TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/app/manage.py", line 22, in <module>',
    "    main()",
    '  File "/usr/local/lib/python3.12/site-packages/django/core/management/__init__.py", line 442, in execute_from_command_line',
    "    utility.execute()",
    '  File "/usr/local/lib/python3.12/site-packages/django/conf/__init__.py", line 89, in __getattr__',
    "    self._setup(name)",
    '»  File "/app/portal/settings.py", line 23, in <module>',
    '»    SECRET_KEY = env("DJANGO_SECRET_KEY")',
    '  File "/usr/local/lib/python3.12/site-packages/environ/environ.py", line 391, in get_value',
    "    raise ImproperlyConfigured(error_msg) from exc",
    "»django.core.exceptions.ImproperlyConfigured: Set the DJANGO_SECRET_KEY environment variable",
]


def gradle_android(f: Filler) -> tuple[list[str], str]:
    """An Android build: hundreds of deprecation warnings, one unit test fails, lint runs on after it."""
    out = []
    for task in ("preBuild", "compileDebugKotlin", "compileDebugJavaWithJavac", "compileDebugUnitTestKotlin"):
        out.append(f"> Task :app:{task}")
        if task == "compileDebugKotlin":
            for _ in range(300):
                out.append(
                    f"w: file:///home/runner/work/shop-android/shop-android/app/src/main/java/com/acme/shop/"
                    f"{camel(f.pick(WORDS))}{f.pick(['Fragment', 'ViewModel', 'Adapter'])}.kt:{10 + f.below(300)}:"
                    f"{5 + f.below(40)} '{f.pick(['onActivityCreated', 'getParcelable', 'startActivityForResult'])}(...)' "
                    "is deprecated. Deprecated in Java."
                )
    out += ["> Task :app:testDebugUnitTest", ""]
    for k in range(200):
        out.append(f"com.acme.shop.{camel(f.pick(WORDS))}Test > {f.pick(WORDS)}{camel(f.pick(CASES))}() PASSED")
        if k == 131:
            out += [
                "",
                "»com.acme.shop.cart.CartViewModelTest > totalIncludesShipping FAILED",
                "»    java.lang.AssertionError: expected:<1490> but was:<1290>",
                "        at org.junit.Assert.fail(Assert.java:89)",
                "        at org.junit.Assert.failNotEquals(Assert.java:835)",
                "        at org.junit.Assert.assertEquals(Assert.java:647)",
                "»        at com.acme.shop.cart.CartViewModelTest.totalIncludesShipping(CartViewModelTest.kt:58)",
                "",
            ]
    out += ["312 tests completed, 1 failed", "", "> Task :app:testDebugUnitTest FAILED", "> Task :app:lintDebug"]
    out += [
        f"/home/runner/work/shop-android/shop-android/app/src/main/res/layout/{f.pick(WORDS)}_{k}.xml:{5 + f.below(90)}: "
        f"Warning: {f.pick(['Hardcoded string, should use @string resource [HardcodedText]', 'Missing contentDescription attribute on image [ContentDescription]', 'This text field does not specify an inputType [TextFields]'])}"
        for k in range(260)
    ]
    out += [
        "Lint found 0 errors, 260 warnings",
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "»Execution failed for task ':app:testDebugUnitTest'.",
        "> There were failing tests. See the report at: file:///home/runner/work/shop-android/shop-android/app/build/reports/tests/testDebugUnitTest/index.html",
        "",
        "* Try:",
        "> Run with --scan to get full insights.",
        "",
        "BUILD FAILED in 6m 41s",
        "97 actionable tasks: 97 executed",
    ]
    steps = [("actions/setup-java@v4", ["Java configuration:", "  Distribution: temurin", "  Version: 17.0.13+11"])]
    return gha_job(
        "acme/shop-android", steps, ("./gradlew testDebugUnitTest lintDebug --continue --console=plain", [], out)
    ), "jvm"


def rspec_documentation(f: Filler) -> tuple[list[str], str]:
    """bundle install, then rspec --format documentation with Rails deprecation noise."""
    out = []
    for _ in range(150):
        gem, version = f.pick(
            [
                ("rack", "3.1.8"),
                ("nokogiri", "1.16.7"),
                ("activesupport", "7.2.2"),
                ("puma", "6.5.0"),
                ("sidekiq", "7.3.5"),
                ("rspec-core", "3.13.2"),
                ("faker", "3.5.1"),
                ("pg", "1.5.9"),
            ]
        )
        out += [f"Fetching {gem} {version}", f"Installing {gem} {version}"]
    out += [
        "Bundle complete! 84 Gemfile dependencies, 201 gems now installed.",
        "$ bundle exec rspec --format documentation",
        "Randomized with seed 30117",
        "",
    ]
    failed_at = 700
    for k in range(1500):
        depth = f.below(3)
        if k == failed_at:
            out.append("    charges VAT on the shipping fee (FAILED - 1)")
            continue
        if depth == 0:
            out.append(f"{camel(f.pick(WORDS))}::{camel(f.pick(WORDS))}")
        else:
            out.append(
                "  " * depth
                + f"{f.pick(['returns', 'rejects', 'keeps', 'sends', 'retries'])} the {f.pick(WORDS)} when {f.pick(CASES).replace('_', ' ')}"
            )
        if f.below(40) == 0:
            out.append(
                "DEPRECATION WARNING: `to_time` will always preserve the full timezone rather than offset of the receiver "
                "in Rails 8.0. (called from block (3 levels) in <top (required)> at /builds/shop/rails-app/spec/models/order_spec.rb:14)"
            )
    out += [
        "",
        "Failures:",
        "",
        "»  1) Checkout::Totals charges VAT on the shipping fee",
        '»     Failure/Error: expect(totals.vat).to eq(Money.new(399, "EUR"))',
        "",
        "»       expected: #<Money fractional:399 currency:EUR>",
        "»            got: #<Money fractional:323 currency:EUR>",
        "",
        "       (compared using ==)",
        "»     # ./spec/services/checkout/totals_spec.rb:57:in `block (3 levels) in <top (required)>'",
        "",
        "Finished in 2 minutes 4.1 seconds (files took 6.82 seconds to load)",
        "1500 examples, 1 failure",
        "",
        "Failed examples:",
        "",
        "rspec ./spec/services/checkout/totals_spec.rb:51 # Checkout::Totals charges VAT on the shipping fee",
        "",
        "Randomized with seed 30117",
        "",
    ]
    script = ["$ bundle install --jobs 4", *out]
    return gitlab_job("ruby:3.3.6-bookworm", "shop/rails-app", script), "ruby"


def bash_trace(f: Filler) -> tuple[list[str], str]:
    """A deploy script under `set -x`: a failed upload in the middle, then its cleanup trap's trace."""
    out = ["+ set -euo pipefail", "+ source ci/lib.sh", "++ REGISTRY=registry.acme.dev", "++ CHART_DIR=deploy/chart"]
    for k in range(500):
        key = f.pick(["region", "replicas", "image", "tag", "cpu", "memory", "host", "port"])
        out += [
            f"++ {key}_{k}=$(yq '.{key}' deploy/values/{f.pick(['eu', 'us', 'ap'])}.yaml)",
            f"+++ yq .{key} deploy/values/{f.pick(['eu', 'us', 'ap'])}.yaml",
            f"++ {key}_{k}={f.below(4000)}",
        ]
    out += [
        "»+ curl -fsS --retry 2 -u ci:*** -T dist/portal-2026.11.30.tgz https://registry.acme.dev/artifacts/portal/",
        "»curl: (7) Failed to connect to registry.acme.dev port 443 after 3 ms: Couldn't connect to server",
        "+ cleanup",
        "+ local rc=7",
    ]
    for k in range(400):
        out += [
            f"+ rm -rf /tmp/deploy.{k:04d}",
            f"+ kubectl --context staging -n portal delete job migrate-{k} --ignore-not-found",
            f'job.batch "migrate-{k}" deleted' if f.below(5) == 0 else "+ true",
        ]
    out += ["+ exit 7"]
    script = ["$ bash -x ci/deploy.sh staging", *out]
    return gitlab_job(
        "registry.acme.dev/ci/deployer:2026.11", "web/portal", script, exit_line="ERROR: Job failed: exit code 7"
    ), "shell"


# name -> (builder, seed, key tokens)
LONG_LOGS = {
    "go-test-verbose-long.gha.log": (
        go_verbose,
        11,
        [
            "TestLoadConfig/empty_path",
            "loader_test.go:88",
            "open : no such file or directory",
            "github.com/acme/cfg/loader",
        ],
    ),
    "unittest-matrix-long.gitlab.log": (
        unittest_matrix,
        12,
        ["test_round_half_even", 'test_money.py", line 57', "Money('2.67') != Money('2.68')", "py311"],
    ),
    "pytest-verbose-long.gha.log": (
        pytest_verbose,
        13,
        ["test_vat[AT-20]", "tests/test_tax.py:31", "Decimal('19.00') == Decimal('20')"],
    ),
    "maven-multimodule-long.gitlab.log": (
        maven_multimodule,
        14,
        ["BalanceTest.carriesOverNegativeBalance:77", "expected: <-15.00> but was: <15.00>", "ledger-core"],
    ),
    "go-test-timeout-long.gitlab.log": (
        go_test_timeout,
        15,
        ["panic: test timed out after 10m0s", "TestSyncLoop/slow_remote", "loop.go:143", "loop_test.go:77"],
    ),
    "go-it-compose-logs-long.gitlab.log": (
        go_compose_logs,
        16,
        [
            "TestCheckoutFlow",
            "checkout_test.go:118",
            "status 500, want 201",
            'column \\"coupon_code\\" of relation \\"orders\\" does not exist',
        ],
    ),
    "jest-coverage-long.gitlab.log": (
        jest_coverage,
        17,
        [
            "partial refund keeps the shipping fee",
            "src/orders/refunds.test.ts:62:20",
            '"amount": 1490',
            '"amount": 1990',
        ],
    ),
    "cargo-warnings-long.gha.log": (cargo_warnings, 18, ["E0599", "retry_with", "src/net/upload.rs:88:14"]),
    "docker-collectstatic-long.gitlab.log": (
        docker_pip,
        19,
        ["ImproperlyConfigured", "DJANGO_SECRET_KEY", 'settings.py", line 23'],
    ),
    "gradle-android-long.gha.log": (
        gradle_android,
        20,
        [
            "totalIncludesShipping",
            "expected:<1490> but was:<1290>",
            "CartViewModelTest.kt:58",
            ":app:testDebugUnitTest",
        ],
    ),
    "rspec-documentation-long.gitlab.log": (
        rspec_documentation,
        21,
        [
            "charges VAT on the shipping fee",
            "spec/services/checkout/totals_spec.rb:57",
            "fractional:399",
            "fractional:323",
        ],
    ),
    "bash-trace-long.gitlab.log": (
        bash_trace,
        22,
        ["curl: (7)", "registry.acme.dev port 443", "dist/portal-2026.11.30.tgz"],
    ),
}


def unmark(lines: list[str]) -> tuple[str, list[int]]:
    """The log text without the marks, and the 1-based numbers of the marked lines."""
    labelled = [i + 1 for i, line in enumerate(lines) if line.startswith(MARK)]
    text = "\n".join(line[len(MARK) :] if line.startswith(MARK) else line for line in lines) + "\n"
    return text, labelled


def build() -> dict[str, tuple[bytes, dict]]:
    """file name -> (log bytes, label)."""
    out = {}
    for name, (builder, seed, tokens) in LONG_LOGS.items():
        lines, kind = builder(Filler(seed))
        text, labelled = unmark(lines)
        out[name] = (text.encode("utf-8"), {"kind": kind, "error_lines": labelled, "key_tokens": tokens})
    return out


def refresh(check_only: bool = False) -> list[str]:
    """Bring the long logs and their labels up to date; the names that were (or would be) rewritten.

    The logs are not committed (they are megabytes); the harness calls this before scoring."""
    labels_path = HERE / "labels.json"
    labels = json.loads(labels_path.read_text(encoding="utf-8")) if labels_path.exists() else {}
    stale = []
    for name, (data, label) in build().items():
        path = HERE / name
        if path.exists() and path.read_bytes() == data and labels.get(name) == label:
            continue
        stale.append(name)
        if not check_only:
            path.write_bytes(data)
            labels[name] = label
    if stale and not check_only:
        labels_path.write_text(
            json.dumps(dict(sorted(labels.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = refresh(check_only=check)
    if check:
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    print("written: " + ", ".join(stale) if stale else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
