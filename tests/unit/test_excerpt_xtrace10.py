"""A traced script's `+ cmd` echoes as the failing step's start on CI systems that echo no command of their own
(Drone, Woodpecker, Tekton, Argo, a Jenkins sh step), with diagnostics printed after the failure."""

from __future__ import annotations

from bot.core.excerpt.ci_systems import is_xtrace_step
from bot.core.excerpt.read import excerpt
from bot.core.excerpt.scan import Scanner

SETUP = ["+ apt-get update -qq", "+ apt-get install -y -qq jq curl"] + [
    f"Setting up lib{i}:amd64 (1.{i}.0-1) ..." for i in range(60)
]
EVENTS = [
    "+ kubectl -n staging get events --sort-by=.lastTimestamp",
    "LAST SEEN   TYPE      REASON   OBJECT   MESSAGE",
] + [
    f"{i}m         Normal    Pulled   pod/web-6d8f9c7b4-{i:05x}   Container image already present on machine"
    for i in range(90)
]
DESCRIBE = ["+ kubectl -n staging describe pod -l app=web", "Name:             web-6d8f9c7b4-x2x9q"] + [
    f"    Mount{i}:  /etc/conf{i} from conf{i} (ro)" for i in range(60)
]
COMPOSE_LOGS = ["+ docker compose logs --no-color"] + [
    f"db-1  | 2026-12-07 09:10:{i % 60:02d}.000 UTC [{60 + i}] LOG:  checkpoint starting: time" for i in range(150)
]


def _shown(lines: list[str], budget: int) -> str:
    return "\n".join(line.text for line in excerpt("\n".join(lines) + "\n", budget).lines)


def test_a_tekton_steps_failed_command_is_shown_above_the_kubectl_describe_that_follows_it():
    """A Tekton step's traced script: `helm upgrade` fails, then `kubectl describe` prints 50 lines; tkn prints no
    exit line of the step. At 2,000 characters the excerpt shows helm's error, not only the pod's description and
    the events under it (the pod's old crash)."""
    prefix = "[deploy : helm] "
    body = SETUP + ["+ helm upgrade --install web ./charts/web -n staging --debug"]
    body += [f'client.go:339: [debug] Looks like there are no changes for ConfigMap "cfg-{i}"' for i in range(100)]
    body += [
        "Error: UPGRADE FAILED: template: web/templates/deployment.yaml:34:28: executing "
        '"web/templates/deployment.yaml" at <.Values.image.tag>: nil pointer evaluating interface {}.tag'
    ]
    body += [
        'helm.go:84: [debug] template: web/templates/deployment.yaml:34:28: executing "web/templates/deployment.yaml"'
    ]
    body += (
        DESCRIBE[:2]
        + ["Namespace:        staging"]
        + DESCRIBE[2:50]
        + [
            "Events:",
            "  Type     Reason   Age   From     Message",
            "  ----     ------   ----  ----     -------",
        ]
    )
    body += [
        '  Warning  Failed   11m   kubelet  Error: failed to start container "web": exec: "/app/server": '
        "permission denied",
        "  Warning  BackOff  2m (x41 over 11m)  kubelet  Back-off restarting failed container web",
    ]
    shown = _shown([prefix + line for line in body], 2000)
    assert prefix + "Error: UPGRADE FAILED: template: web/templates/deployment.yaml:34:28" in shown


def test_a_woodpecker_commands_last_words_are_shown_above_the_events_dumped_after_it():
    """`kubectl apply` says why it failed in words no rule knows; `kubectl get events` then prints 90 lines before
    Woodpecker's `exit status 1`. The failed command's last line is shown at 2,000 characters."""
    lines = SETUP + ["+ kubectl apply -f k8s/"] + [f"configmap/conf{i} unchanged" for i in range(30)]
    lines += ['The Deployment "web" is invalid: spec.template.spec.containers[0].image: Required value']
    lines += EVENTS + ["exit status 1"]
    assert 'The Deployment "web" is invalid: spec.template.spec.containers[0].image: Required value' in _shown(
        lines, 2000
    )


def test_a_drone_command_that_failed_silently_is_named_above_the_compose_logs_after_it():
    """A traced `grep -q` fails with no output, and `docker compose logs` prints 150 lines; Drone prints no exit
    line. The failed command's echo is shown, at every budget."""
    check = '+ grep -q \'"version": "2.4.1"\' dist/manifest.json'
    lines = ["+ git init", "+ git checkout 5f1c2e9 -b main", *SETUP, "+ npm run build"]
    lines += [f"  dist/assets/chunk-{i:03d}.js   12.{i:02d} kB" for i in range(30)] + [check] + COMPOSE_LOGS
    for budget in (2000, 4000, 8000):
        assert check in _shown(lines, budget), budget


def test_what_is_read_as_a_traced_commands_echo():
    """`+ cmd` and a PS4 naming the place (`+(ci/test.sh:12): cmd`) start a step; a command run inside another's
    expansion (`++ git rev-parse HEAD`), a Gradle dependency tree, a unified diff's added line under its hunk and
    an ndiff's `+` line under its `-` line do not."""
    assert is_xtrace_step("+ make test", iter(["ok  \tgit.acme.io/shop\t0.2s"]))
    assert is_xtrace_step("+(ci/test.sh:12): cargo test --locked", iter([]))
    assert is_xtrace_step("+ '[' -f dist/index.html ']'", iter([]))
    assert not is_xtrace_step("++ git rev-parse --short HEAD", iter([]))
    assert not is_xtrace_step("+--- org.jetbrains.kotlin:kotlin-stdlib:1.9.24", iter([]))
    hunk_above = iter(["-set -euo pipefail", "@@ -1,6 +1,6 @@", "+++ ci/deploy.sh", "--- ci/deploy.sh.orig"])
    assert not is_xtrace_step("+ set -euo pipefail", hunk_above)
    assert not is_xtrace_step("+ make check", iter(["- make test", "  make build", "AssertionError: 'a' != 'b'"]))


def test_a_runners_own_command_echo_keeps_the_traced_script_inside_its_step():
    """GitLab and Travis echo the job's commands (`$ ./ci/test.sh`): a script they run with `set -x` is one step,
    its `+ cmd` lines are not steps of their own; without a runner's echo, they are."""

    def scan(text: str):
        s = Scanner(budget=4000, max_bytes=None)
        s.feed(text.encode())
        return s.finish()

    traced = "\n".join(["+ make deps", "fetching", "+ make test", "FAIL", ""])
    assert scan(traced).traced and scan(traced).commands == [1, 3]
    echoed = scan("$ ./ci/test.sh\n" + traced)
    assert not echoed.traced and echoed.commands == [1]
