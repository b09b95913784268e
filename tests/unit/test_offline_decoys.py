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
