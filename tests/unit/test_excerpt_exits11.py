"""Only a line that says a job, a step or a command was ended counts as an exit line: not a service's own word
`terminated` for a task that finished ("Background saving terminated with success")."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import is_exit_line


def test_a_services_terminated_task_is_no_exit_line():
    assert not is_exit_line("1:M 07 Dec 2026 09:39:02.039 * Background saving terminated with success")
    assert not is_exit_line("worker-1  | child process 300 terminated by signal 15, restarting")


def test_a_terminated_build_or_command_is_still_one():
    assert is_exit_line("The job exceeded the maximum time limit for jobs, and has been terminated.")
    assert is_exit_line("The build has been terminated")
    assert is_exit_line("script.sh: line 1:  4242 Terminated              timeout 600 ./run-e2e.sh")
    assert is_exit_line("Terminated")


def test_a_redis_log_printed_by_the_after_script_spends_no_budget_on_its_saves():
    """Each "terminated with success" was an exit line, shown as one: ten of them took the budget's place at 2,000."""
    log = ["$ pytest -q tests/"] + [f"tests/test_mod{i}.py " + "." * 40 + f" [{i * 4}%]" for i in range(12)]
    log += [
        "=================================== FAILURES ===================================",
        "______________________________ test_cache_expiry _______________________________",
        ">       assert cache.get('k') is None",
        "E       AssertionError: assert 1 is None",
        "tests/test_cache.py:31: AssertionError",
        "FAILED tests/test_cache.py::test_cache_expiry - AssertionError: assert 1 is None",
        "1 failed, 311 passed in 41.20s",
        "Running after_script",
        "$ docker logs redis",
    ]
    for i in range(40):
        log += [
            f"1:M 07 Dec 2026 09:{i:02d}:01.{i:03d} * Background saving started by pid {100 + i}",
            f"{100 + i}:C 07 Dec 2026 09:{i:02d}:01.{i + 200:03d} * DB saved on disk",
            f"1:M 07 Dec 2026 09:{i:02d}:02.{i:03d} * Background saving terminated with success",
        ]
    log += ["ERROR: Job failed: exit code 1"]
    shown = [line.text for line in excerpt("\n".join(log) + "\n", 2000).lines]
    assert "E       AssertionError: assert 1 is None" in shown
    # The last lines of the log and of the failing step are shown whatever they say; no save is shown as an exit.
    assert sum("Background saving terminated" in text for text in shown) <= 3


def test_a_command_or_process_terminated_by_a_signal_is_an_exit_line():
    # GNU time's line after an out-of-memory kill, a supervisor's after a TERM (stop 25's review).
    assert is_exit_line("Command terminated by signal 9")
    assert is_exit_line("Process terminated by signal 15")
