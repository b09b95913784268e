"""The offline analyzer's rules for deploy tools, permissions and configuration, and linters with their own ids (data)."""

from __future__ import annotations

from bot.core.heuristic_rule import C, Rule, V, rule

# Laid out by hand, to be read as a table; the formatter leaves it alone. In heuristic_rules.RULES, after the
# language rules and before the generic test summaries.
# fmt: off
DEPLOY_RULES: tuple[Rule, ...] = (
    # --- deploy: Kubernetes, Helm, Terraform -----------------------------------------------------
    rule("helm", r"Error: (?:UPGRADE FAILED|INSTALLATION FAILED): (?P<msg>.+)",
         C.deploy, "Helm release failed: {msg}", "Helm could not install or upgrade the release.",
         ("Check `helm status <release>` and `kubectl get events` in the target namespace.",
          "If a previous release is stuck, `helm rollback` or fix the failing resource."), 0.85,
         ("Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",)),
    rule("kubectl", r"(?:error: (?:timed out waiting for the condition|deployment \"(?P<deploy>[^\"]+)\" exceeded its progress deadline)|Error from server \((?P<reason>\w+)\))",
         C.deploy, "Kubernetes deployment failed", "The rollout did not become ready, or the API server refused the request.",
         ("Check `kubectl describe` and `kubectl logs` of the new pods: crash loops and failing probes are the usual cause.",), 0.75,
         ('error: deployment "api" exceeded its progress deadline', "Error from server (Forbidden): deployments.apps is forbidden")),
    rule("kubectl-invalid", r"^The (?P<kind>\w+) \"(?P<name>[^\"]+)\" is invalid: ",
         C.deploy, "Kubernetes rejected the {kind} {name}", "The API server refused the manifest of {kind} `{name}`: a field is missing or has a wrong value.",
         ("Fix the field named after `is invalid:` in the manifest; check it with `kubectl apply --dry-run=server -f <file>`.",), 0.85,
         ('The Deployment "worker" is invalid: spec.template.spec.containers[0].image: Required value',)),
    rule("ansible", r"^fatal: \[(?P<host>[^\]]+)\]: (?P<state>FAILED|UNREACHABLE)!",
         C.deploy, "Ansible task failed on {host}", "Ansible reports the task as {state} on `{host}`; its `msg` says why.",
         ("Read the task's `msg` (and `stderr`) in the line; rerun the playbook with `-vvv` on that host to see more.",
          "For UNREACHABLE, check that the host is up and the runner can reach it over SSH."), 0.75,
         # the yaml stdout callback's layout first, then the default one (JSON)
         ("fatal: [web1.acme.internal]: FAILED! => changed=false", 'fatal: [web1.acme.internal]: FAILED! => {"changed": false, "msg": "Destination directory /etc/nginx/sites-enabled does not exist"}',),
         V.unknown),
    rule("terraform-lock", r"Error acquiring the state lock",
         C.infrastructure, "Terraform state is locked", "Another Terraform run holds the state lock (or a crashed run left it).",
         ("Wait for the other pipeline to finish; if none runs, `terraform force-unlock <LOCK_ID>` with care.",), 0.9,
         ("Error: Error acquiring the state lock",), V.infrastructure),
    # Any tool prints "Error: ..." (R, Node, cc-test-reporter): Terraform's own are boxed (0.15+) or say what
    # a provider was doing to a resource, or name a configuration problem in its words.
    rule("terraform", r"^\s*│\s*Error: (?P<msg>.+)$|^\s*Error: (?P<msg2>(?:(?:error )?(?:creating|reading|updating|deleting|waiting for) [A-Z]|Invalid reference|Unsupported (?:argument|attribute|block type)|Missing required argument|Reference to undeclared).+)$",
         C.deploy, "Terraform error: {msg}", "Terraform stopped with: {msg}.",
         ("Read the block under the error (file and line of the resource); reproduce with `terraform plan`.",), 0.55,
         ("│ Error: Invalid reference", "Error: creating S3 Bucket: BucketAlreadyExists")),
    # --- permissions and configuration ------------------------------------------------------------
    rule("permission-denied", r"(?i)(?:permission denied|\bEACCES\b|403 Forbidden|access denied|not authorized|HTTP Basic: Access denied|denied: requested access to the resource is denied)",
         C.permissions, "Permission denied",
         "A command was refused: a file is not executable or writable, or a registry/API rejected the job's credentials.",
         ("For scripts: `chmod +x` and commit the mode (`git update-index --chmod=+x <file>`).",
          "For registries and APIs: check the CI/CD variables holding credentials and the token's scopes (protected variables are only set on protected branches)."),
         0.7, ("/bin/sh: 1: ./deploy.sh: Permission denied", "denied: requested access to the resource is denied", "remote: HTTP Basic: Access denied")),
    rule("command-not-found", r"(?:(?P<cmd>[\w.\-]+): (?:command )?not found|command not found: (?P<cmd2>[\w.\-]+))$",
         C.configuration, "Command not found: {cmd}",
         "The job's image does not have `{cmd}` installed, or it is not on PATH.",
         ("Use an image that contains `{cmd}`, or install it in `before_script`.",), 0.85,
         ("/bin/bash: line 112: yarn: command not found", "sh: 1: poetry: not found")),
    rule("no-such-file", r"(?P<path>[\w/.\-]+): No such file or directory|can't open file '(?P<path2>[^']+)'",
         C.configuration, "A file is missing: {path}",
         "A command refers to a file that does not exist in the job (wrong path, not committed, or an artifact from an earlier job that was not passed on).",
         ("Check the path and that the file is committed.", "If another job produces it, declare it under `artifacts:` there and `needs:` here."), 0.6,
         ("cat: config/settings.yml: No such file or directory", "python: can't open file '/builds/app/manage.py': [Errno 2] No such file or directory")),
    rule("shellcheck", r"\bSC(?P<code>\d{4}) \((?P<level>error|warning|info|style)\): ",
         C.lint, "shellcheck reports SC{code}", "shellcheck reports `SC{code}` ({level}); it exits non-zero for any finding at or above its `--severity`.",
         ("Fix the line shown above the finding (https://www.shellcheck.net/wiki/SC{code} explains it), or disable it there with `# shellcheck disable=SC{code}`.",), 0.8,
         ("       ^--------^ SC2086 (info): Double quote to prevent globbing and word splitting.",)),
    # hadolint's tty format: "Dockerfile:7 DL3008 warning: Pin versions ..." (its shellcheck findings are "SC2086")
    rule("hadolint", r"^(?P<file>\S*(?:Dockerfile|Containerfile)\S*):\d+ (?P<code>DL\d{4}|SC\d{4}) (?P<level>error|warning|info|style): ",
         C.lint, "hadolint reports {code} in {file}", "hadolint reports `{code}` ({level}) in `{file}`; it exits non-zero for any finding at or above its `--failure-threshold`.",
         ("Fix the instruction at that line (https://github.com/hadolint/hadolint#rules explains {code}), or ignore it with `# hadolint ignore={code}` above it.",), 0.8,
         ("Dockerfile:7 DL3008 warning: Pin versions in apt get install.",)),
    # linters that print a compiler's layout ("file:line:col: error: ...") with their own rule id, which is what marks
    # them (more specific than a compiler's error in that layout, so more confident): SwiftLint's "Violation: ... (rule_id)", ktlint's "(standard:rule-id)", cppcheck's "[camelCaseId]",
    # clang-format's "[-Wclang-format-violations]" (with --dry-run -Werror), Psalm's "ERROR: IssueType - file:l:c - "
    rule("swiftlint", r"^(?P<file>\S+\.swift):\d+(?::\d+)?: (?:error|warning): .+ Violation: .+ \((?P<rule>[a-z_]+)\)\s*$",
         C.lint, "SwiftLint reports {rule} in {file}", "SwiftLint's rule `{rule}` reports a violation in `{file}` (with `--strict` a warning fails the run too).",
         ("Fix the line it names, or disable the rule there with `// swiftlint:disable:next {rule}` if it does not apply.",), 0.8,
         ("/builds/acme/money/Sources/Money/Cart.swift:41:23: error: Force Cast Violation: Force casts should be avoided (force_cast)",)),
    rule("ktlint", r"^(?P<file>\S+\.kts?):\d+:\d+: .+ \((?P<rule>[a-z][\w-]*:[a-z][\w-]*)\)\s*$",
         C.lint, "ktlint reports {rule} in {file}", "ktlint's rule `{rule}` reports `{file}` as not formatted to the code style.",
         ("Run `ktlint --format` (or the Gradle plugin's `ktlintFormat`) locally and commit the result.",), 0.8,
         ('src/main/kotlin/com/acme/Cart.kt:41:1: Unexpected blank line(s) before "}" (standard:no-blank-line-before-rbrace)',)),
    rule("cppcheck", r"^(?P<file>\S+\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx)):\d+:\d+: (?:error|warning|style|performance|portability): .+ \[(?P<id>[a-z][A-Za-z0-9]+)\]\s*$",
         C.lint, "cppcheck reports {id} in {file}", "The static analyser cppcheck reports `{id}` in `{file}` (with `--error-exitcode` any finding fails the run).",
         ("Fix the code at that line, or suppress the finding there with `// cppcheck-suppress {id}` if it is a false positive.",), 0.9,
         ("src/money.c:41:12: error: Array 'buf[4]' accessed at index 4, which is out of bounds. [arrayIndexOutOfBounds]",)),
    rule("clang-format", r"^(?P<file>\S+):\d+:\d+: (?:error|warning): code should be clang-formatted \[-Wclang-format-violations\]",
         C.lint, "clang-format would reformat {file}", "`clang-format --dry-run -Werror` found `{file}` not formatted as .clang-format asks.",
         ("Run `clang-format -i` on the file (the same clang-format version as the job) and commit the result.",), 0.9,
         ("src/money.cpp:41:14: error: code should be clang-formatted [-Wclang-format-violations]",)),
    rule("psalm", r"^(?:ERROR|INFO): (?P<code>[A-Z]\w+) - (?P<file>\S+?):\d+:\d+ - .*\(see https://psalm\.dev/\d+\)",
         C.lint, "Psalm reports {code} in {file}", "The static analyser Psalm reports `{code}` in `{file}`.",
         ("Fix the code at that line (the psalm.dev link explains the issue type), or suppress it there with `@psalm-suppress {code}`.",), 0.8,
         ("ERROR: UndefinedMethod - src/Cart.php:41:30 - Method App\\Money::toFloat does not exist (see https://psalm.dev/022)",)),
    # PHPStan's table: the file is the header over the line numbers and messages
    rule("phpstan", r"^\s*Line\s{2,}(?P<file>\S+\.php)\s*$",
         C.lint, "PHPStan reports errors in {file}", "The static analyser PHPStan reports errors in `{file}` at its configured level.",
         ("Fix the lines it lists, or add a justified entry to the baseline (`phpstan analyse --generate-baseline`).",), 0.8,
         ("  Line   src/Cart.php",)),
    # scalastyle (sbt plugin): its tally or sbt's task failure
    rule("scalastyle", r"\((?:\w+ / )?scalastyle\) errors exist|scalastyle Found [1-9]\d* errors",
         C.lint, "scalastyle reports style errors", "scalastyle found lines that break the rules of scalastyle-config.xml.",
         ("Fix the lines it names (the `[error]` lines above), or change the rule's level in scalastyle-config.xml if it does not apply.",), 0.8,
         ("[error] (Compile / scalastyle) errors exist", "[info] scalastyle Found 1 errors")),
    # the OCaml compiler (dune, ocamlfind): the place over the code frame and the "Error:" under it
    rule("ocaml-compile", r"^File \"(?P<file>[^\"]+\.mli?)\", lines? \d+(?:-\d+)?, characters \d+-\d+:",
         C.build, "OCaml compile error in {file}", "The OCaml compiler rejects `{file}`; the `Error:` under the code frame says why.",
         ("Fix the expression it points at; reproduce with `dune build`.",), 0.85,
         ('File "src/money.ml", line 14, characters 22-25:',)),
    # the Elm compiler's report header: "-- TYPE MISMATCH ------------- src/Cart.elm"
    rule("elm-make", r"-- (?P<kind>[A-Z][A-Z' ]+[A-Z]) -{2,} (?P<file>\S+\.elm)\s*$",
         C.build, "Elm reports {kind} in {file}", "The Elm compiler reports a {kind} in `{file}`; its explanation is printed under the header.",
         ("Read the compiler's hint under the header and fix the code it points at; reproduce with `elm make`.",), 0.85,
         ("-- TYPE MISMATCH ---------------------------------------------------- src/Cart.elm",)),
    # pre-commit: the hook that failed ("- hook id: end-of-file-fixer" under "fix end of files....Failed")
    rule("pre-commit", r"^- hook id: (?P<hook>\S+)",
         C.lint, "pre-commit hook {hook} failed", "The pre-commit hook `{hook}` failed or changed files; in CI a hook that modifies files fails the run.",
         ("Run `pre-commit run {hook} --all-files` locally and commit what it changes or fix what it reports.",), 0.75,
         ("- hook id: end-of-file-fixer",)),
    # checkov: a policy check a resource failed ("Check: CKV_AWS_20: "S3 Bucket has an ACL ..."" above "FAILED for resource")
    rule("checkov", r"^Check: (?P<code>CKV2?_[A-Z0-9_]+): \"(?P<msg>[^\"]+)\"",
         C.lint, "checkov check {code} failed", "The infrastructure code fails checkov's policy `{code}`: {msg}",
         ("Change the resource as the check asks, or skip it there with `# checkov:skip={code}: <reason>` if the risk is accepted.",), 0.8,
         ('Check: CKV_AWS_20: "S3 Bucket has an ACL defined which allows public READ access."',)),
    # tflint: the rule's id in parentheses after the finding; its rulesets name rules after the provider (aws_, google_, ...)
    rule("tflint", r"^\s*(?:Error|Warning|Notice): (?P<msg>.+) \((?P<rule>(?:terraform|aws|azurerm|google)_[a-z0-9_]+)\)\s*$",
         C.lint, "tflint reports {rule}", "tflint's rule `{rule}` reports: {msg}",
         ("Fix the value at the line tflint shows under the finding, or disable the rule in .tflint.hcl if it does not apply.",), 0.8,
         ('Error: "t2.micrro" is an invalid value as instance_type (aws_instance_invalid_type)',)),
    # helm lint: "[ERROR] templates/deployment.yaml: ..." for a chart's file
    rule("helm-lint", r"^\[ERROR\] (?P<file>(?:templates/\S+?|Chart\.yaml|values\.yaml)):? ",
         C.lint, "helm lint reports an error in {file}", "`helm lint` finds the chart's `{file}` invalid.",
         ("Render it with `helm template` to see the YAML at the line named, and fix the template or values.",), 0.8,
         ("[ERROR] templates/deployment.yaml: unable to parse YAML: error converting YAML to JSON: yaml: line 27",)),
    # trivy: a vulnerability at or above --severity, with --exit-code 1 ("Total: 1 (CRITICAL: 1)" over its table)
    rule("trivy", r"^Total: \d+ \((?:\w+: \d+, )*(?:HIGH|CRITICAL): [1-9]",
         C.dependency, "trivy found vulnerable packages", "The image or lock file has a package with a known vulnerability at or above the severity the scan fails on.",
         ("Upgrade the package to the version in the table's Fixed Version column (or the base image that ships it).", "If no fix exists yet, list the CVE in .trivyignore with a reason and an expiry."), 0.75,
         ("Total: 1 (CRITICAL: 1)", "Total: 3 (UNKNOWN: 0, LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 0)"), V.unknown),
    # semantic-release: its errors carry a code (EGITNOPERMISSION, ENOGITLABTOKEN, EINVALIDNPMTOKEN): the release job's
    # token or configuration, not the change
    rule("semantic-release", r"\[semantic-release\].*?[✘✖]\s+(?P<code>E[A-Z]{4,})\b\s*(?P<msg>.*)$",
         C.configuration, "semantic-release: {code} {msg}", "semantic-release stopped with `{code}`: {msg}",
         ("Check the release job's token (its scopes and whether it may push to the branch) and the plugin's configuration; the error's docs link says which.",), 0.85,
         ("[10:12:42 AM] [semantic-release] › ✘  EGITNOPERMISSION Cannot push to the Git repository.",), V.unknown),
    rule("gitlab-ci-yaml", r"(?i)(jobs config should contain at least one visible job|yaml invalid|This GitLab CI configuration is invalid)",
         C.configuration, "The CI configuration is invalid", "GitLab could not use .gitlab-ci.yml.",
         ("Validate it in the project's CI Lint page (Build → Pipeline editor).",), 0.9, ("This GitLab CI configuration is invalid: jobs:test script can't be blank",)),
)
# fmt: on
