"""The offline analyzer's rules for checks that report findings rather than crash (data): security and dependency
scanners, coverage and quality gates, commit-message, Markdown, YAML and manifest linters, static analysers."""

from __future__ import annotations

from bot.core.heuristic_rules import C, Rule, V, rule

# Laid out as heuristic_rules' tables are; the formatter leaves them alone.
# fmt: off
FINDINGS: tuple[Rule, ...] = (
    # --- security scanners of code --------------------------------------------------------------
    rule("bandit", r"^>> Issue: \[(?P<code>B\d{3}):(?P<name>\w+)\]",
         C.lint, "Bandit reports {code} ({name})",
         "The security linter Bandit reports `{code}` ({name}) at the `Location:` under the issue; it exits non-zero for any "
         "issue at or above the severity and confidence it was given (`-l`, `-i`).",
         ("Fix the call at the location it names (the issue's More Info link says what is unsafe and what to use instead).",
          "If the use is safe, mark that line `# nosec {code}` with a reason, or skip the test in the Bandit configuration."), 0.85,
         (">> Issue: [B602:subprocess_popen_with_shell_equals_true] subprocess call with shell=True identified, security issue.",)),
    rule("semgrep", r"^\s*(?:❯❯❱|❯❱|❱) (?P<rule>[a-z][\w.-]+)\s*$|^Ran \d+ rules? on \d+ files?: [1-9]\d* findings?\.",
         C.lint, "Semgrep rule {rule} matched",
         "Semgrep's rule `{rule}` matches the code under the finding, in the file named above it; with `--error` (or "
         "`semgrep ci` and a blocking rule) any finding fails the job.",
         ("Change the code as the finding's message asks (its Details link explains the rule).",
          "If it is a false positive, add `# nosemgrep: {rule}` on that line, or exclude the rule in the policy."), 0.85,
         ("    ❯❯❱ python.lang.security.audit.formatted-sql-query.formatted-sql-query", "Ran 412 rules on 86 files: 1 finding.")),
    # --- known vulnerabilities in dependencies: a new advisory fails an unchanged branch ------------------
    rule("vulnerable-dependency",
         r"^-> Vulnerability found in (?P<pkg>\S+) version|^Found \d+ known vulnerabilit(?:y|ies) in \d+ packages?|"
         r"^(?P<pkg2>[A-Za-z0-9][\w.-]*)\s+v?\d[\w.+!-]*\s+(?:GHSA(?:-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+)\b|^# npm audit report\s*$|"
         r"^\S.* in (?P<pkg3>[\w@./-]+) - https://github\.com/advisories/GHSA-",
         C.dependency, "A dependency has a known vulnerability ({pkg})",
         "The audit (pip-audit, Safety, npm audit) found a published advisory for `{pkg}` at the version the project "
         "installs; the job fails on any finding at or above its threshold. A new advisory fails a branch that did not change.",
         ("Upgrade the package to a fixed version (pip-audit's Fix Versions column, `npm audit fix`, Safety's advisory) and "
          "update the lock file.",
          "If no fix exists or the code does not use the affected part, ignore that advisory by its id with a reason "
          "(`pip-audit --ignore-vuln`, `safety check --ignore`, an `overrides` entry or `npm audit --omit`)."), 0.8,
         ("-> Vulnerability found in pyyaml version 5.3.1", "Found 2 known vulnerabilities in 1 package",
          "jinja2 3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3", "# npm audit report",
          "Prototype Pollution in lodash - https://github.com/advisories/GHSA-p6mc-m468-83gw"), V.unknown),
    # --- gates ---------------------------------------------------------------------------------------------
    rule("coverage-threshold",
         r"Coverage failure: total of (?P<total>[\d.]+) is less than fail-under=(?P<min>[\d.]+)|"
         r"Required test coverage of (?P<min2>[\d.]+)% not reached\. Total coverage: (?P<total2>[\d.]+)%|"
         r"coverage threshold for \w+ \((?P<min3>[\d.]+)%\) not met: (?P<total3>[\d.]+)%|"
         r"Coverage for \w+ \((?P<total4>[\d.]+)%\) does not meet (?:global )?threshold \((?P<min4>[\d.]+)%\)",
         C.test, "Test coverage {total}% is below the required {min}%",
         "The tests passed, but the coverage they measured ({total}%) is below the minimum the job requires ({min}%: "
         "coverage.py's `fail_under`, pytest-cov's `--cov-fail-under`, Jest's `coverageThreshold`, nyc's `check-coverage`).",
         ("Add tests for the code the change added (the report's Miss / Uncovered Line columns name it).",
          "Lower the threshold only if the drop is intended, in the same place it is set."), 0.85,
         ("Coverage failure: total of 70 is less than fail-under=80",
          "FAIL Required test coverage of 80% not reached. Total coverage: 70.14%",
          'Jest: "global" coverage threshold for lines (80%) not met: 71.42%',
          "ERROR: Coverage for lines (71.42%) does not meet global threshold (80%)")),
    rule("sonar-quality-gate", r"QUALITY GATE STATUS: FAILED",
         C.lint, "The SonarQube quality gate failed",
         "SonarScanner waited for the server's verdict (`sonar.qualitygate.wait=true`) and the project's quality gate "
         "failed: the new code breaks one of its conditions (new issues, coverage or duplication on new code, a rating).",
         ("Open the dashboard link in the line: it lists the failed conditions and the issues behind them.",
          "Fix those issues or add the missing tests; a gate's conditions are changed on the server, not in the job."), 0.85,
         ("ERROR: QUALITY GATE STATUS: FAILED - View details on https://sonar.example.com/dashboard?id=acme",)),
    # --- commit messages, Markdown, YAML, manifests ---------------------------------------------------------
    rule("commitlint", r"^\s*[✖✗]\s+.+ \[(?P<rule>(?:type|subject|scope|header|body|footer|references|signed-off-by)-[a-z-]+)\]\s*$",
         C.lint, "commitlint: a commit message breaks {rule}",
         "commitlint checks the commit messages (the `input:` line above the finding) against the configured convention "
         "(Conventional Commits by default); `{rule}` fails.",
         ("Reword the commit (`git commit --amend`, or `git rebase -i` for an older one) as `type(scope): subject`, then push again.",), 0.85,
         ("✖   subject may not be empty [subject-empty]",)),
    rule("markdownlint", r"^(?P<file>\S+\.(?:md|markdown)):\d+(?::\d+)? (?:error )?(?P<rule>MD\d{3})(?:/[\w/-]+)? ",
         C.lint, "markdownlint reports {rule} in {file}",
         "markdownlint reports rule `{rule}` in `{file}`; it exits non-zero for any finding.",
         ("Fix the line it names (`markdownlint --fix` fixes many rules), or configure the rule in .markdownlint.json.",), 0.85,
         ("README.md:12:81 MD013/line-length Line length [Expected: 80; Actual: 112]",)),
    rule("yamllint",
         r"^\s*\d+:\d+\s+(?P<level>error|warning)\s+.+\s\((?P<rule>[a-z][a-z-]+)\)\s*$|"
         r"^(?P<file>\S+\.ya?ml):\d+:\d+: \[(?P<level2>error|warning)\] .+ \((?P<rule2>[a-z][a-z-]+)\)\s*$",
         C.lint, "yamllint reports {rule}",
         "yamllint's rule `{rule}` reports a problem ({level}) in the file named above it (with `-s`, warnings fail the job too).",
         ("Fix the line it names, or change the rule in .yamllint if it does not apply.",), 0.8,
         ("  12:3      error    wrong indentation: expected 4 but found 2  (indentation)",
          "deploy/values.yaml:12:3: [error] wrong indentation: expected 4 but found 2 (indentation)")),
    rule("kubeconform", r"^(?P<file>\S+) - (?P<kind>\w+) (?P<name>\S+) (?:is invalid|failed validation): ",
         C.lint, "The {kind} {name} does not match its schema",
         "The manifest validator (kubeconform, kubeval) finds the {kind} `{name}` in `{file}` invalid against the "
         "Kubernetes schema: a field has the wrong type, is unknown (`-strict`) or is missing.",
         ("Fix the field the message names (its JSON path), then render and validate again (`kustomize build | kubeconform`).",), 0.85,
         ("stdin - Deployment web is invalid: problem validating schema. Check JSON formatting: jsonschema: ...",)),
    # --- static analysers in other languages ----------------------------------------------------------
    rule("staticcheck", r"^(?P<file>\S+\.go):\d+:\d+: .+ \((?P<check>(?:SA|S|ST|QF|U)\d{4})\)\s*$",
         C.lint, "staticcheck reports {check} in {file}",
         "staticcheck's check `{check}` reports a problem in `{file}`.",
         ("Fix the line it names (`staticcheck -explain {check}` says why), or ignore it there with `//lint:ignore {check} reason`.",), 0.85,
         ("internal/cart/cart.go:27:2: this value of err is never used (SA4006)",)),
    rule("detekt", r"^(?P<file>\S+\.kts?):\d+:\d+: .+ \[(?P<rule>[A-Z][A-Za-z]+)\]\s*$|Analysis failed with \d+ (?:weighted )?issues",
         C.lint, "detekt reports {rule} in {file}",
         "detekt's rule `{rule}` reports `{file}`; the build fails when the weighted issues pass `maxIssues`.",
         ("Fix the code it names, or suppress it there with `@Suppress(\"{rule}\")`, or add it to the baseline if it is old.",), 0.85,
         ("/builds/acme/shop/app/src/main/kotlin/shop/Cart.kt:41:9: The function applyDiscount is too long (72). The maximum length is 60. [LongMethod]",
          "> Analysis failed with 2 weighted issues.")),
    rule("credo", r"^┃ \[(?P<prio>[A-Z])\] \S+ (?P<msg>\S.*)$",
         C.lint, "Credo: {msg}",
         "Credo (Elixir's linter) reports an issue, with its place on the line under it; `mix credo` exits non-zero for any issue it shows.",
         ("Fix the code at that place, or disable the check there (`# credo:disable-for-next-line`) if it does not apply.",), 0.8,
         ("┃ [R] ↗ Modules should have a @moduledoc tag.",)),
    rule("dialyzer", r"^(?P<file>[\w./-]+\.exs?):\d+(?::\d+)?:(?P<warning>[a-z_]+)\s*$|^done \(warnings were emitted\)",
         C.lint, "Dialyzer reports {warning} in {file}",
         "Dialyzer's success typing finds a call or clause in `{file}` that cannot succeed (`{warning}`); the explanation is "
         "under the location.",
         ("Fix the types at that line (the call's arguments or the function's spec), or list the warning in the ignore file if it is a false positive.",), 0.8,
         ("lib/shop/cart.ex:27:call", "done (warnings were emitted)")),
    rule("lintr", r"^(?P<file>\S+\.[Rr](?:md)?):\d+:\d+: (?:style|warning|error): \[(?P<linter>\w+)\] ",
         C.lint, "lintr reports {linter} in {file}",
         "lintr's `{linter}` reports `{file}`; the job fails on any lint because it runs with `error_on_lint`.",
         ("Fix the line it names (`styler::style_file()` fixes the style ones), or configure the linter in .lintr.",), 0.8,
         ("R/cart.R:14:5: style: [object_name_linter] Variable and function name style should match snake_case or symbols.",)),
    # --- environments and deployments -------------------------------------------------------------------
    rule("conda-unsatisfiable", r"(?:LibMamba)?UnsatisfiableError: |Could not solve for environment specs|^ResolvePackageNotFound:",
         C.dependency, "conda could not solve the environment",
         "conda/mamba found no set of packages that satisfies every spec together (the list under the error names the "
         "conflict: often a package that needs another Python than the one pinned).",
         ("Read the solver's explanation: align the pins in environment.yml (Python's version first), or drop a pin.",
          "Check the channels and their order (conda-forge vs defaults), then lock the result (conda-lock)."), 0.88,
         ("LibMambaUnsatisfiableError: Encountered problems while solving:", "Could not solve for environment specs")),
    rule("pulumi", r"^\s*error: (?:update|preview|refresh|destroy) failed\s*$|Running program '[^']+' failed with an unhandled exception",
         C.deploy, "pulumi could not apply the stack",
         "Pulumi's Diagnostics name the resource that failed and the cloud provider's error above its verdict on the stack.",
         ("Fix what the provider's error names (an image id, a quota, a permission, a name already taken), then run `pulumi preview` again.",
          "If the state drifted, `pulumi refresh` before the next update."), 0.75,
         ("    error: update failed",), V.unknown),
)
# fmt: on
