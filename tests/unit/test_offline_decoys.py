"""The offline analyzer on lines that look like the failure but are not (branch analyzer12): what a passing Go
package or unittest test logged, a build tool's package prefix over a hspec report, and the controls where the
failure-looking line is the failure."""

from __future__ import annotations

from tests.unit.test_offline_formats import assert_specific, offline_answer

TRAVIS_END = '\n\nThe command "{cmd}" exited with 1.\n\nDone. Your build exited with 1.\n'


def travis(cmd: str, body: str) -> str:
    """A Travis CI job's script: the echo, the command's output, the runner's exit line."""
    return f"$ {cmd}\n" + body.strip("\n") + TRAVIS_END.format(cmd=cmd)


def test_what_a_passing_go_package_logged_is_not_the_failure():
    log = travis(
        "go test ./...",
        """
ok  	github.com/acme/svc/internal/cache	0.012s
2020/03/02 10:12:01 ERROR: upstream returned 503, retrying in 1s
2020/03/02 10:12:04 request failed: context deadline exceeded
ok  	github.com/acme/svc/internal/client	4.021s
--- FAIL: TestRouteMatch (0.00s)
    router_test.go:48: route "/users/{id}" matched "/users/": got true, want false
FAIL
FAIL	github.com/acme/svc/internal/router	0.009s
FAIL
""",
    )
    answer = offline_answer(log)
    assert_specific("go", answer, ["router_test.go:48"], "router_test.go:48", None)
    assert "upstream" not in answer.summary


def test_a_go_packages_failing_output_is_still_the_failure():
    # The package's verdict is FAIL: what it printed above is its failure.
    log = travis(
        "go test ./...",
        """
ok  	github.com/acme/svc/internal/cache	0.012s
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x5a1f3c]
FAIL	github.com/acme/svc/internal/router	0.009s
FAIL
""",
    )
    assert_specific("go-panic", offline_answer(log), ["nil pointer dereference"], "panic: runtime error", None)


def test_what_a_passing_unittest_test_logged_is_not_the_failure():
    log = travis(
        "python -m unittest discover -v",
        """
test_connect (tests.test_db.DbTest) ... ERROR:root:could not connect to server: Connection refused
	Is the server running on host "localhost" (127.0.0.1) and accepting TCP/IP connections on port 5432?
ok
test_slug (tests.test_text.TextTest) ... FAIL

======================================================================
FAIL: test_slug (tests.test_text.TextTest)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/home/travis/build/acme/blog/tests/test_text.py", line 12, in test_slug
    self.assertEqual(slugify("Hello World!"), "hello-world")
AssertionError: 'hello-world-' != 'hello-world'

----------------------------------------------------------------------
Ran 2 tests in 0.041s

FAILED (failures=1)
""",
    )
    answer = offline_answer(log)
    assert_specific("unittest", answer, ["'hello-world-' != 'hello-world'"], "AssertionError", None)
    assert "Connection refused" not in answer.summary


def test_a_warning_turned_into_an_error_under_stacks_package_prefix_heads():
    # stack prefixes each line of a package's build with "pkg> " and closes with advice to scroll up.
    log = travis(
        "stack --no-terminal build --pedantic",
        """
acme-lib> build (lib)
acme-lib> [1 of 1] Compiling Acme.Types
acme-lib>
acme-lib> /home/ci/lib/src/Acme/Types.hs:22:1: error: [-Wunused-imports, -Werror=unused-imports]
acme-lib>     The import of `Data.Maybe' is redundant
acme-lib>   |
acme-lib> 22 | import Data.Maybe
acme-lib>   | ^^^^^^^^^^^^^^^^^

--  While building package acme-lib-0.1.0.0 (scroll up to its section to see the error) using:
      /home/ci/.stack/setup-exe-cache/x86_64-linux/Cabal-simple_mPHDZzAJ_2.4.0.1_ghc-8.6.5 build lib:acme-lib
    Process exited with code: ExitFailure 1
""",
    )
    assert_specific("stack", offline_answer(log), ["Types.hs:22:1"], "-Werror=unused-imports", None)


def test_the_linkers_error_heads_over_the_compilers_warnings_above_it():
    log = travis(
        "make",
        """
gcc -Wall -O2 -c src/main.c -o build/main.o
src/main.c: In function 'main':
src/main.c:41:9: warning: unused variable 'tmp' [-Wunused-variable]
   41 |     int tmp;
      |         ^~~
gcc -Wall -O2 -c src/util.c -o build/util.o
src/util.c:88:12: warning: 'strncpy' specified bound 64 equals destination size [-Wstringop-truncation]
   88 |     (void) strncpy(dst, src, 64);
      |            ^~~~~~~~~~~~~~~~~~~~~
gcc -o build/tool build/main.o build/util.o -lm
/usr/bin/ld: build/main.o: in function `main':
main.c:(.text+0x5a): undefined reference to `parse_config'
collect2: error: ld returned 1 exit status
make: *** [Makefile:12: build/tool] Error 1
""",
    )
    answer = offline_answer(log)
    assert_specific("ld", answer, ["parse_config"], "undefined reference", None)
    assert "unused variable" not in answer.summary


def test_a_werror_warning_still_heads():
    log = travis(
        "make CFLAGS=-Werror",
        """
gcc -Wall -Werror -O2 -c src/util.c -o build/util.o
src/util.c: In function 'copy_name':
src/util.c:88:12: error: 'strncpy' specified bound 64 equals destination size [-Werror=stringop-truncation]
   88 |     (void) strncpy(dst, src, 64);
      |            ^~~~~~~~~~~~~~~~~~~~~
cc1: all warnings being treated as errors
make: *** [Makefile:9: build/util.o] Error 1
""",
    )
    assert_specific("werror", offline_answer(log), ["src/util.c:88:12"], "-Werror=stringop-truncation", None)


def test_hspecs_numbered_failure_heads_over_a_test_named_for_a_timeout_and_a_warning():
    log = travis(
        "stack --no-terminal test",
        """
acme-lib> [2 of 3] Compiling Acme.Parse
acme-lib>
acme-lib> /home/ci/lib/src/Acme/Parse.hs:40:5: warning: [-Wincomplete-patterns]
acme-lib>     Pattern match(es) are non-exhaustive
acme-lib> test (suite: spec)
acme-lib>
acme-lib> Acme.Parse
acme-lib>   parses integers
acme-lib>   reports a timeout as an error
acme-lib>   parses lists FAILED [1]
acme-lib>
acme-lib> Failures:
acme-lib>
acme-lib>   test/Acme/ParseSpec.hs:31:7:
acme-lib>   1) Acme.Parse parses lists
acme-lib>        expected: Right [1,2,3]
acme-lib>         but got: Right [1,2]
acme-lib>
acme-lib> Randomized with seed 1733202
acme-lib>
acme-lib> Finished in 0.0031 seconds
acme-lib> 3 examples, 1 failure
acme-lib> Test suite spec failed
Test suite failure for package acme-lib-0.1.0.0
    spec:  exited with: ExitFailure 1
Logs printed to console
""",
    )
    answer = offline_answer(log)
    assert_specific("hspec", answer, ["Acme.Parse parses lists", "expected: Right [1,2,3]"], "1) Acme.Parse", None)
    assert "timeout" not in answer.summary and "warning" not in answer.summary


def test_a_browser_console_error_relayed_by_karma_is_not_the_failing_spec():
    log = travis(
        "npm run test:ci",
        """
02 03 2020 10:12:03.410:INFO [HeadlessChrome 80.0.3987 (Linux 0.0.0)]: Connected on socket xk2 with id 1234
HeadlessChrome 80.0.3987 (Linux 0.0.0) ERROR: 'Http failure response for /api/users: 500 Internal Server Error'
HeadlessChrome 80.0.3987 (Linux 0.0.0) UserListComponent should render rows FAILED
\tExpected 2 to equal 3.
\t    at UserContext.<anonymous> (src/app/user-list.component.spec.ts:40:31)
HeadlessChrome 80.0.3987 (Linux 0.0.0): Executed 24 of 24 (1 FAILED) (0.812 secs / 0.7 secs)
TOTAL: 1 FAILED, 23 SUCCESS
npm ERR! code ELIFECYCLE
npm ERR! errno 1
""",
    )
    answer = offline_answer(log)
    assert_specific("karma", answer, ["Expected 2 to equal 3."], "Expected 2 to equal 3.", None)
    assert "Http failure" not in answer.summary
