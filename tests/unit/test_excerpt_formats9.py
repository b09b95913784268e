"""Excerpt rules about framings the shared data lacks (monorepo runners' and workflow engines' per-task prefixes, ...), each with hand-written lines that need it."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import MEDIUM, VERDICT, is_continuation, score_line

JEST_FAILURE = [
    "FAIL src/cart/cart.reducer.test.ts",
    "  ● cart reducer › removes an item when quantity hits zero",
    "",
    "    expect(received).toEqual(expected) // deep equality",
    "",
    "    - Expected  - 1",
    "    + Received  + 7",
    "",
    "    - Array []",
    "    + Array [",
    "    +   Object {",
    '    +     "id": "sku-1",',
    '    +     "qty": 0,',
    "    +   },",
    "    + ]",
    "",
    "      41 |     const next = reducer(state, remove('sku-1'));",
    "    > 42 |     expect(next.items).toEqual([]);",
    "         |                        ^",
    "      43 |   });",
    "",
    "      at Object.<anonymous> (src/cart/cart.reducer.test.ts:42:24)",
]


def _relayed(prefix: str) -> str:
    """A jest run relayed line by line under a source prefix: 300 passing suites, the failure, 300 more."""
    body = [f"PASS src/m{i}.test.ts" for i in range(300)] + JEST_FAILURE
    body += [f"PASS src/n{i}.test.ts" for i in range(300)] + ["Test Suites: 1 failed, 600 passed, 601 total"]
    return "$ npm test\n" + "\n".join(prefix + line for line in body) + "\nERROR: Job failed: exit code 1\n"


def _shown(log: str, budget: int) -> str:
    return "\n".join(line.text for line in excerpt(log, budget).lines)


def test_a_monorepo_runners_task_prefix_is_not_read_as_the_tools_words():
    """pnpm's recursive run (`apps/web test: `), Turborepo (`web:test: `) and `argo logs` (`<pod>: `) put the task's
    source before every line it prints: the failure's detail under it (jest's diff, the frame) is its block."""
    for prefix in ("apps/web test: ", "web:test: ", "ci-build-x7k2p-1840214791: "):
        shown = _shown(_relayed(prefix), 1500)
        assert prefix + '    +     "qty": 0,' in shown, prefix
        assert prefix + "      at Object.<anonymous> (src/cart/cart.reducer.test.ts:42:24)" in shown, prefix
        assert is_continuation(prefix + "      at Object.<anonymous> (src/cart/cart.reducer.test.ts:42:24)")


def test_a_workflow_pods_prefix_before_a_compilers_error():
    """`argo logs` of a parallel make: the compiler's `file:line:col: error:` under the pod's name is the verdict,
    not the make lines and the 80 compile lines after it."""
    pod = "ci-build-x7k2p-1840214791: "
    lines = [f"cc -O2 -c src/mod_{i}.c -o build/mod_{i}.o" for i in range(200)]
    lines += [
        "src/codec/frame.c: In function 'frame_decode':",
        "src/codec/frame.c:144:12: error: implicit declaration of function 'crc32c_update'",
        "  144 |     crc = crc32c_update(crc, buf, len);",
        "      |           ^~~~~~~~~~~~~",
        "make[2]: *** [Makefile:88: build/codec/frame.o] Error 1",
    ]
    lines += [f"cc -O2 -c src/late_{i}.c -o build/late_{i}.o" for i in range(80)]
    lines += ["make[1]: *** Waiting for unfinished jobs....", "make: *** [Makefile:12: all] Error 2"]
    log = "\n".join(pod + line for line in ["+ make -j8 all", *lines, "Error: exit status 1"]) + "\n"
    assert score_line(pod + "src/codec/frame.c:144:12: error: implicit declaration of function 'x'") >= VERDICT
    assert pod + "src/codec/frame.c:144:12: error: implicit declaration of function 'crc32c_update'" in _shown(
        log, 4000
    )


def test_a_pod_relaying_a_monorepo_runner_has_both_sources_removed():
    """Argo running pnpm: two sources before the tool's words."""
    shown = _shown(_relayed("ci-build-x7k2p-1840214791: apps/web test: "), 1500)
    assert "ci-build-x7k2p-1840214791: apps/web test:     - Array []" in shown


def test_a_log_level_or_a_files_place_is_not_a_source():
    """Python's logging (`ERROR:root:`), a file's place (`a.py:12:`) and a tool's own `error: ` are the tool's words."""
    assert score_line("ERROR:root: upload failed: connection reset") >= MEDIUM
    assert score_line("tests/test_a.py:12: AssertionError") >= MEDIUM
    assert score_line("error: could not compile `acme-core` (lib) due to 1 previous error") >= VERDICT
    # a passing task's line stays a passing line under its source
    assert score_line("web:test: ✓ src/a.test.ts (3 tests) 12ms") == 0.0


def _lead(log: str, budget: int) -> list[str]:
    """The texts of the block the excerpt leads with."""
    ex = excerpt(log, budget)
    assert ex.lead is not None
    first, last = ex.lead
    return [line.text for line in ex.lines if first <= line.n <= last]


def test_a_monorepo_runners_report_that_a_task_failed_does_not_lead():
    """pnpm's `ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL` and the task's closing `Failed`, Turborepo's `command finished with
    error`, Lerna's and Yarn's `exited 1`: they say that a task failed; the task's own output above says what. Under a
    workflow pod's prefix no command echo marks the step, so only their weakness leaves the budget to the failure."""
    pod = "ci-build-x7k2p-1840214791: "
    for report in (
        [
            "apps/web test: Failed",
            "/repo/apps/web:",
            " ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL  @acme/web@0.1.0 test: `vitest run`",
        ],
        [
            "web:test: ERROR: command finished with error: command (/repo/apps/web) /usr/bin/pnpm run test exited (1)",
            " ERROR  run failed: command  exited (1)",
        ],
        ["lerna ERR! npm run test exited 1 in '@acme/web'"],
        ["error Command failed with exit code 1.", "info Visit https://yarnpkg.com/en/docs/cli/run for documentation."],
    ):
        lines = ["+ pnpm -r --stream test"]
        lines += [f"packages/core test:  ✓ src/e{i}.test.ts  (4 tests) 12ms" for i in range(200)]
        lines += ["apps/web test:  FAIL  src/session.test.ts > session > expires after ttl"]
        lines += ["apps/web test: AssertionError: expected false to be true // Object.is equality", "apps/web test: "]
        lines += [
            "apps/web test:  ❯ src/session.test.ts:31:40",
            "apps/web test:      31|     expect(s.expired).toBe(true);",
        ]
        lines += [f"packages/core test:  ✓ src/f{i}.test.ts  (4 tests) 12ms" for i in range(110)]
        lines += [
            "apps/web test:  Test Files  1 failed | 18 passed (19)",
            "apps/web test:       Tests  1 failed | 140 passed (141)",
        ]
        lines += report
        lines += ['time="2026-11-30T09:07:41.000Z" level=info msg="sub-process exited" argo=true error="<nil>"']
        lines += ["Error: exit status 1"]
        # weak, as npm's own report is: what the task printed above outranks it
        assert all(score_line(pod + line) < MEDIUM for line in report if line.strip() and "info Visit" not in line)
        shown = _shown("\n".join(pod + line for line in lines) + "\n", 2000)
        assert pod + "apps/web test: AssertionError: expected false to be true // Object.is equality" in shown, report
        assert pod + "apps/web test:  ❯ src/session.test.ts:31:40" in shown, report


def test_a_passed_test_files_line_ends_the_failure_block():
    """vitest indents its line for a test file that passed (` ✓ src/a.test.ts  (3 tests) 12ms`): it is not the detail
    of the failure above it. A passed test's title in Jest's list of a failed suite's tests stays inside its report."""
    assert not is_continuation(" ✓ src/m1.test.ts  (3 tests) 12ms")
    assert is_continuation("    ✓ adds items (2 ms)")
    lines = ["$ npx vitest run", " FAIL  src/price.test.ts > formatPrice > rounds half up"]
    lines += ["AssertionError: expected '1.00' to be '1.01' // Object.is equality", " ❯ src/price.test.ts:9:31"]
    lines += [f" ✓ src/m{i}.test.ts  (3 tests) 12ms" for i in range(60)]
    lines += [" Test Files  1 failed | 60 passed (61)", "ERROR: Job failed: exit code 1"]
    lead = _lead("\n".join(lines) + "\n", 4000)
    assert " ❯ src/price.test.ts:9:31" in lead
    assert not any("✓" in text for text in lead)


def test_ctests_verdict_of_a_test_and_its_summary_item():
    """CTest's `97/117 Test #97: parser ....***Failed` and `97 - parser (Failed)` are its verdicts; the right-aligned
    lines of the tests that passed after it are not their detail (they pushed the summary out of a small budget)."""
    assert score_line("  3/10 Test  #3: seg ......***Exception: SegFault  0.01 sec") >= VERDICT
    assert score_line("\t 12 - parser_roundtrip (Failed)") >= VERDICT
    assert not is_continuation("  98/117 Test  #98: case_98 ........   Passed    0.09 sec")
    assert score_line("  9/10 Test  #9: slow ......***Timeout  60.01 sec") >= VERDICT  # the number padded
    lines = ["$ ctest --test-dir build", "Test project /builds/acme/engine/build"]
    for i in range(1, 118):
        status = "***Failed    0.12 sec" if i == 97 else "   Passed    0.02 sec"
        lines.append(f"{i:>4}/117 Test #{i}: case_{i} ........................{status}")
    lines += ["", "99% tests passed, 1 tests failed out of 117", "", "Total Test time (real) =  12.40 sec", ""]
    lines += ["The following tests FAILED:", "\t 97 - case_97 (Failed)", "Errors while running CTest"]
    lines += [f"Uploading artifact {i} of 40 ... done" for i in range(40)]
    lines += ["ERROR: Job failed: exit code 8"]
    shown = _shown("\n".join(lines) + "\n", 2000)
    assert "  97/117 Test #97: case_97 ........................***Failed    0.12 sec" in shown
    assert "\t 97 - case_97 (Failed)" in shown
