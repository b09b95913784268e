"""Known causes: messages tools print for a failure of the job's environment, and what each is down to (data)."""

from __future__ import annotations

from bot.core.heuristic_findings import FINDINGS
from bot.core.heuristic_rules import RULES, C, Rule, V, rule

# Each message is the tool's own, as its documentation or source prints it; the explanation says what it is usually
# down to in a CI job and the fix steps what to change in the job. Their verdict is mostly "unknown": an image, a
# runner or a credential changed, not necessarily the code. More confident than the general rules they overlap
# (permission-denied, network-dns, terraform, docker-build-step), so that they explain when they match.
# The tables below are laid out by hand, to be read as tables; the formatter leaves them alone.
# fmt: off
CAUSES: tuple[Rule, ...] = (
    rule("git-dubious-ownership", r"detected dubious ownership in repository at '(?P<path>[^']+)'",
         C.configuration, "Git refuses to work in {path}",
         "Git refuses to work in `{path}` because the directory belongs to another user than the one running git (its "
         "safe.directory check): the job's image runs as another user than the one that checked the sources out, or the "
         "directory comes from a cache or volume.",
         ("Add `git config --global --add safe.directory \"$CI_PROJECT_DIR\"` to the job's `before_script`.",
          "Or run the image as the user that owns the checkout."), 0.9,
         ("fatal: detected dubious ownership in repository at '/builds/acme/tools'",), V.unknown),
    rule("ssh-host-key", r"Host key verification failed",
         C.configuration, "ssh does not know the server's host key",
         "ssh refused to connect because the server's host key is not in the job's known_hosts: a fresh CI container has "
         "none, or the server's key changed.",
         ("Add the verified host key before connecting, from a CI/CD variable: "
          "`echo \"$SSH_KNOWN_HOSTS\" >> ~/.ssh/known_hosts` (`ssh-keyscan <host>` gives it; check its fingerprint once).",
          "If the server's key changed on purpose, update that variable."), 0.9,
         ("Host key verification failed.",), V.unknown),
    rule("pip-externally-managed", r"error: externally-managed-environment",
         C.configuration, "pip refuses to install into the image's system Python",
         "pip refuses to install into the system Python of the job's image (PEP 668): Debian- and Ubuntu-based images "
         "since Debian 12 / Ubuntu 23.04 mark it as managed by apt.",
         ("Install into a virtual environment: `python3 -m venv .venv && . .venv/bin/activate` before `pip install`.",
          "Or use an official `python:` image, or `pip install --break-system-packages` in a throwaway image."), 0.9,
         ("error: externally-managed-environment",), V.unknown),
    rule("exec-format", r"(?i)exec format error",
         C.configuration, "A binary is for another CPU architecture",
         "A program or image was built for another CPU architecture than the runner's (arm64 against amd64), or a "
         "script lacks its `#!` line.",
         ("Compare the runner's architecture (`uname -m`) with the image's or binary's (`docker image inspect`, `file`), "
          "and pull or build the matching platform (`--platform linux/amd64`).",
          "For a script, make its first line a shebang such as `#!/bin/sh`."), 0.85,
         ("exec /usr/local/bin/docker-entrypoint.sh: exec format error",
          "standard_init_linux.go:228: exec user process caused: exec format error"), V.unknown),
    rule("glibc-version", r"version [`'](?P<ver>GLIBC_[\d.]+)' not found",
         C.configuration, "A binary needs a newer glibc ({ver})",
         "A binary needs `{ver}`, newer than the job's image has: it was built on (or downloaded for) a newer "
         "distribution, or the image is Alpine (musl, no glibc).",
         ("Run it on an image with a newer glibc (a newer Debian/Ubuntu base), or build it in the image it runs in.",
          "On Alpine, use a musl build of the tool or a glibc-based image."), 0.9,
         ("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./bin/tool)",), V.unknown),
    rule("java-class-version",
         r"UnsupportedClassVersionError: .*class file version (?P<have>\d+)\.\d+\), this version of the Java Runtime "
         r"only recognizes class file versions up to (?P<max>\d+)\.\d+",
         C.configuration, "Classes compiled for a newer Java than the runtime",
         "Classes compiled for a newer Java (class file version {have}) run on an older runtime (which reads up to "
         "{max}); the class file version is the Java version plus 44.",
         ("Run with a JDK at least as new as the one that compiled them (the job's `image:`, e.g. `eclipse-temurin`), "
          "or compile for the older one with `--release`.",), 0.9,
         ("Exception in thread \"main\" java.lang.UnsupportedClassVersionError: com/acme/App has been compiled by a "
          "more recent version of the Java Runtime (class file version 61.0), this version of the Java Runtime only "
          "recognizes class file versions up to 55.0",), V.unknown),
    rule("gradle-jdk", r"Unsupported class file major version (?P<major>\d+)",
         C.configuration, "The build tool is older than the JDK running it",
         "The JDK running the build is newer than the Gradle version (or a Groovy-, ASM- or Kotlin-based plugin) can "
         "read: class file major version {major} (the Java version plus 44).",
         ("Upgrade the Gradle wrapper (`./gradlew wrapper --gradle-version <version>`) to one that supports this JDK, "
          "or run the build on the JDK it supports.",), 0.85,
         ("BUG! exception in phase 'semantic analysis' in source unit '_BuildScript_' Unsupported class file major "
          "version 65",), V.unknown),
    rule("apt-unknown-package", r"E: Unable to locate package (?P<package>\S+)",
         C.dependency, "apt does not know the package {package}",
         "apt does not know `{package}`: the name is misspelt or differs in this distribution release, or the package "
         "lists were not downloaded in this job (no `apt-get update` before, or it ran in another image layer).",
         ("Check the package's name for the image's release (`apt-cache search`, packages.debian.org).",
          "Run `apt-get update` in the same step, right before `apt-get install`."), 0.9,
         ("E: Unable to locate package libpq-dev",)),
    rule("git-no-credentials",
         r"could not read (?:Username|Password) for '(?P<url>[^']+)': (?:terminal prompts disabled|No such device)",
         C.permissions, "Git needed credentials for {url}",
         "Git needed credentials for `{url}` and had none: a private submodule or dependency is fetched over HTTPS "
         "without a token.",
         ("Use the job token (`https://gitlab-ci-token:${{CI_JOB_TOKEN}}@<host>/<path>.git`) and add this project to "
          "the other project's CI/CD job token allowlist, or use a deploy token.",
          "For submodules on the same GitLab, use relative URLs in .gitmodules: the runner then fetches them with the "
          "job token."), 0.9,
         ("fatal: could not read Username for 'https://gitlab.example.com': terminal prompts disabled",), V.unknown),
    rule("gitlab-repo-denied",
         r"remote: (?:You are not allowed to (?P<what>download|push) code (?:from|to) this project|"
         r"HTTP Basic: Access denied)",
         C.permissions, "GitLab refused the job's credentials for a repository",
         "GitLab refused the job's credentials for this repository: the job token (CI_JOB_TOKEN) may not read another "
         "project that does not list this one in its job token allowlist, and a job token can never push.",
         ("To read another project, add this project to its CI/CD job token allowlist (Settings > CI/CD > Job token "
          "permissions).",
          "To push (tags, releases, commits), use a project access token with `write_repository` in a masked variable."),
         0.85, ("remote: You are not allowed to download code from this project.",
                "remote: You are not allowed to push code to this project."), V.unknown),
    rule("helm-name-in-use", r"cannot re-use a name that is still in use",
         C.deploy, "A Helm release of that name already exists",
         "`helm install` refuses because a release of that name already exists in the namespace (maybe failed or "
         "pending from an earlier run).",
         ("Use `helm upgrade --install`, which works whether the release exists or not.",
          "If the release is stuck, `helm history <release>` then `helm rollback` or `helm uninstall` it."), 0.9,
         ("Error: INSTALLATION FAILED: cannot re-use a name that is still in use",), V.unknown),
    rule("kubectl-unauthorized", r"You must be logged in to the server(?: \((?P<why>[^)]*)\))?",
         C.permissions, "The cluster rejected the job's credentials",
         "The Kubernetes API rejected the job's credentials: the kubeconfig's token expired or was revoked, or the job "
         "selected another context than intended.",
         ("Check the context the job uses (`kubectl config current-context`) and the KUBECONFIG variable or agent.",
          "Renew the token, or give this project access to the GitLab agent's cluster."), 0.9,
         ("error: You must be logged in to the server (Unauthorized)",), V.unknown),
    rule("tls-untrusted",
         r"x509: certificate (?:signed by unknown authority|has expired)|unable to get local issuer "
         r"certificate|self[- ]signed certificate in certificate chain",
         C.configuration, "TLS: the server's certificate is not trusted",
         "TLS verification failed: the server's certificate is signed by a CA the job's image does not trust (a "
         "company CA, a self-signed registry or a TLS-inspecting proxy), or it expired.",
         ("Add the CA to the image (`update-ca-certificates`) or point the tool at it (`SSL_CERT_FILE`, "
          "`NODE_EXTRA_CA_CERTS`, `REQUESTS_CA_BUNDLE`; Docker: /etc/docker/certs.d/<registry>/ca.crt).",
          "If the certificate expired, renew it on the server."), 0.85,
         ("Error response from daemon: Get \"https://registry.acme.internal/v2/\": x509: certificate signed by unknown "
          "authority", "npm ERR! code SELF_SIGNED_CERT_IN_CHAIN self signed certificate in certificate chain"),
         V.unknown),
    rule("pg-client-version", r"server version mismatch",
         C.configuration, "The PostgreSQL client tools are older than the server",
         "pg_dump (or pg_restore) refuses a server of a newer major version than itself: the job's PostgreSQL client "
         "tools are older than the server.",
         ("Install the client of the server's major version (`postgresql-client-16`), or run the step in the "
          "`postgres:<server version>` image.",), 0.9,
         ("pg_dump: error: aborting because of server version mismatch",), V.unknown),
    rule("npm-integrity", r"\bEINTEGRITY\b",
         C.dependency, "A package's checksum differs from package-lock.json",
         "A downloaded package's checksum differs from the one package-lock.json records: the lock file was made against "
         "another registry or mirror, the package was republished, or the npm cache is corrupt.",
         ("Clear the cache (`npm cache clean --force`, or change the CI cache key) and run again.",
          "If it persists, remove the package's entry from package-lock.json, `npm install`, and commit the result."),
         0.85, ("npm ERR! code EINTEGRITY",), V.unknown),
    rule("docker-copy-missing",
         r"failed to (?:calculate checksum of ref|compute cache key)[^\"]*\"(?P<file>/[^\"]+)\": not found",
         C.build, "COPY names {file}, which is not in the build context",
         "`COPY`/`ADD` names `{file}`, which is not in the build context: it is not committed, .dockerignore excludes "
         "it, or `docker build` is given another context directory than the Dockerfile expects.",
         ("Check that `{file}` is committed and not matched by .dockerignore.",
          "Check the context directory given to `docker build` (its last argument) against the Dockerfile's paths."),
         0.9, ('ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: '
               '"/requirements.lock": not found',)),
    rule("cloud-resource-exists",
         r"Error: .*?\b(?P<code>BucketAlreadyExists|BucketAlreadyOwnedByYou|EntityAlreadyExists|"
         r"ResourceAlreadyExists\w*)\b",
         C.deploy, "The resource already exists ({code})",
         "The resource Terraform tried to create already exists (`{code}`): it was created outside this state (by hand "
         "or another state), or, for an S3 bucket, the name is taken: bucket names are unique across all accounts.",
         ("If it is yours, bring it under this state: `terraform import <address> <id>`.",
          "If the name is taken elsewhere, choose another (S3 bucket names are global)."), 0.85,
         ("│ Error: creating S3 Bucket (acme-prod-artifacts): operation error S3: CreateBucket, https response error "
          "StatusCode: 409, BucketAlreadyExists:",)),
    # GitLab runners' and Docker's own messages about the job's set-up.
    rule("docker-dind-missing",
         r"Cannot connect to the Docker daemon at tcp://(?P<host>docker|localhost|127\.0\.0\.1):\d+|"
         r"error during connect: .*dial tcp: lookup docker\b",
         C.configuration, "The job cannot reach its Docker-in-Docker service",
         "The job talks to a Docker daemon over TCP (`DOCKER_HOST`) that is not there: the job has no `docker:dind` "
         "service, or the client and the service disagree about TLS (port 2376 with certificates under "
         "DOCKER_TLS_CERTDIR, 2375 without).",
         ("Add the service to the job: `services: [docker:<version>-dind]`, with the same `<version>` as the image.",
          "Make the client and service agree: `DOCKER_HOST: tcp://docker:2376` with `DOCKER_TLS_CERTDIR: \"/certs\"`, or "
          "`tcp://docker:2375` with `DOCKER_TLS_CERTDIR: \"\"`."), 0.9,
         ("Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?",
          'error during connect: Get "http://docker:2375/v1.24/info": dial tcp: lookup docker on 10.0.0.2:53: no such '
          "host"), V.unknown),
    rule("docker-socket-denied", r"permission denied while trying to connect to the Docker daemon socket",
         C.permissions, "The runner's user may not use the Docker socket",
         "The job runs `docker` as a user that may not use the Docker daemon's socket: on a shell executor, the "
         "`gitlab-runner` user is not in the `docker` group.",
         ("On the runner's host: `sudo usermod -aG docker gitlab-runner`, then restart the runner.",
          "Or run the job on a Docker executor with a `docker:dind` service."), 0.9,
         ("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",),
         V.infrastructure),
    rule("artifacts-too-large", r"(?i)Uploading artifacts.*\b413 Request Entity Too Large|\btoo large archive\b",
         C.configuration, "The job's artifacts are larger than GitLab accepts",
         "GitLab refused the job's artifacts archive: it is larger than the maximum artifacts size of the instance, "
         "group or project.",
         ("Keep less: narrow `artifacts:paths`, add `artifacts:exclude` for caches and build trees.",
          "Or raise the maximum artifacts size (project or group Settings > CI/CD, or the instance's admin settings)."),
         0.9, ('ERROR: Uploading artifacts as "archive" to coordinator... 413 Request Entity Too Large  id=123 '
               "responseStatus=413 Request Entity Too Large status=413", "FATAL: too large archive"), V.unknown),
    rule("image-platform", r"no matching manifest for (?P<platform>\S+) in the manifest list entries",
         C.configuration, "The image has no build for {platform}",
         "The image is not published for the runner's platform (`{platform}`): an ARM runner pulling an amd64-only "
         "image, or the reverse.",
         ("Run the job on a runner of a platform the image has (a runner `tags:` entry), or use a multi-platform image.",
          "If you build the image, publish it for both (`docker buildx build --platform linux/amd64,linux/arm64`)."),
         0.9, ("no matching manifest for linux/arm64/v8 in the manifest list entries",), V.unknown),
    rule("image-missing-command", r"exec: \"(?P<command>[^\"]+)\": executable file not found in \$PATH",
         C.configuration, "{command} is not in the image",
         "`{command}` is not on the PATH of the image the job runs in: the image lacks the tool, or a tool the job "
         "runs needs it (cgo runs `gcc`), or a container was started with a command its image does not have.",
         ("Use an image that has `{command}` or install it in `before_script` (Alpine: `apk add`).",
          "If a container's own entrypoint names it, override it in `.gitlab-ci.yml` (`image: {{name: ..., "
          "entrypoint: [\"\"]}}`)."), 0.8,
         ('OCI runtime create failed: runc create failed: unable to start container process: exec: "pytest": '
          "executable file not found in $PATH: unknown",), V.unknown),
    rule("npm-registry-auth", r"npm (?:ERR!|error) code E401\b|Unable to authenticate, need: Basic",
         C.permissions, "The npm registry rejected the job's credentials",
         "The npm registry asked for credentials the job did not have or that are no longer valid: the `.npmrc` "
         "token variable is empty or expired. A protected CI/CD variable is empty on a branch that is not protected, "
         "merge request pipelines included.",
         ("Check that `.npmrc` has `//<registry>/:_authToken=${{NPM_TOKEN}}` (GitLab's registry: `${{CI_JOB_TOKEN}}`) and "
          "that the variable reaches this job (protected variables only reach protected branches and tags).",
          "Renew the token if it expired."), 0.85,
         ("npm ERR! code E401", 'npm ERR! Unable to authenticate, need: Basic realm="GitLab Package Registry"'),
         V.unknown),
    rule("git-remote-ref-gone", r"fatal: couldn't find remote ref (?P<ref>\S+)",
         C.configuration, "The ref {ref} is no longer on the remote",
         "Git could not fetch `{ref}`: the branch or tag was deleted or renamed after the pipeline started (a merged "
         "and deleted branch), or the job fetches a ref that never existed.",
         ("If the branch was merged and deleted, the pipeline is obsolete: nothing to fix.",
          "Otherwise check the ref the job fetches (variables, `git fetch` commands)."), 0.85,
         ("fatal: couldn't find remote ref refs/heads/feature-x",), V.unknown),
    # Versions that drifted apart: a dependency, toolchain or lock file against what the code or the image expects.
    rule("python-import-name",
         r"ImportError: cannot import name '(?P<name>[^']+)' from '(?P<module>[^']+)' \([^)]*(?:site|dist)-packages/",
         C.dependency, "{module} has no {name}",
         "`{module}` has no `{name}`: the installed version is not the one the code (or a package using it) was written "
         "against, most often an unpinned dependency that released a version without it.",
         ("Pin `{module}` to the last version that has `{name}` (compare `pip freeze` with the last passing run), then "
          "upgrade the code that imports it.",), 0.85,
         ("ImportError: cannot import name 'soft_unicode' from 'markupsafe' "
          "(/usr/local/lib/python3.9/site-packages/markupsafe/__init__.py)",), V.unknown),
    rule("node-require-esm",
         r"ERR_REQUIRE_ESM\]?:? require\(\) of ES Module \S*?node_modules/(?P<package>(?:@[^/\s]+/)?[^/\s]+)",
         C.dependency, "{package} is an ES module that require() cannot load",
         "`{package}` is published as an ES module only (usually since a new major version), and CommonJS code "
         "loads it with `require()`.",
         ("Pin `{package}` to its last CommonJS major version, or load it with `await import('{package}')`, or move "
          "the project to ES modules.",), 0.85,
         ("Error [ERR_REQUIRE_ESM]: require() of ES Module /builds/app/node_modules/node-fetch/src/index.js from "
          "/builds/app/src/client.js not supported.",), V.unknown),
    rule("node-openssl3", r"ERR_OSSL_EVP_UNSUPPORTED|error:0308010C:digital envelope routines::unsupported",
         C.dependency, "A build tool uses a hash OpenSSL 3 no longer offers",
         "The job's Node (17 or newer) comes with OpenSSL 3, which dropped the MD4 hash an older webpack (4) or "
         "react-scripts uses.",
         ("Upgrade webpack (5) or react-scripts (5), or run the job on Node 16.",
          "As a stopgap, `NODE_OPTIONS=--openssl-legacy-provider`."), 0.9,
         ("Error: error:0308010C:digital envelope routines::unsupported", "code: 'ERR_OSSL_EVP_UNSUPPORTED'"),
         V.unknown),
    rule("node-gyp-tools", r"gyp ERR! (?:find Python|stack Error: not found: (?P<tool>\S+)|stack Error: Could not find any "
         r"Python)",
         C.dependency, "A native Node module cannot be built",
         "An npm package with native code is compiled with node-gyp (no prebuilt binary for this Node version or "
         "platform), and the image lacks what it needs: Python, make or a C++ compiler.",
         ("Install the build tools in the image (`apt-get install -y python3 make g++`, Alpine: `apk add python3 make "
          "g++`), or use a Node version the package ships prebuilt binaries for.",), 0.85,
         ("gyp ERR! find Python", "gyp ERR! stack Error: not found: make"), V.unknown),
    rule("python-build-wheel",
         r"Failed building wheel for (?P<package>\S+)|error: command '(?P<tool>[\w./+-]*(?:gcc|cc|g\+\+|clang))' failed|"
         r"fatal error: Python\.h: No such file or directory",
         C.dependency, "pip had to compile a package and could not",
         "pip found no prebuilt wheel for this Python version and platform (a Python newer than the package's wheels, "
         "or Alpine's musl) and compiling it from source failed: the image lacks a compiler or the headers it needs.",
         ("Use a version of the package that ships wheels for this Python, or a Debian-based `python:` image instead of "
          "Alpine.", "Or install the build tools and headers first (`build-essential python3-dev`, plus the library's "
          "own `-dev` package)."), 0.85,
         ("ERROR: Failed building wheel for psycopg2", "error: command 'gcc' failed: No such file or directory"),
         V.unknown),
    rule("ruby-version", r"Your Ruby version is (?P<have>\S+), but your Gemfile specified (?P<want>\S+)",
         C.configuration, "Ruby {have} runs a Gemfile that wants {want}",
         "The Gemfile asks for Ruby {want} and the job's image has {have}.",
         ("Use the matching image (`image: ruby:{want}`), or change the Gemfile's `ruby` line (and .ruby-version) "
          "together with the image.",), 0.95,
         ("Your Ruby version is 3.1.4, but your Gemfile specified 3.2.2",)),
    rule("python-requires",
         r"requires a different Python: (?P<have>[\d.]+) not in '(?P<want>[^']+)'",
         C.configuration, "The package needs Python {want}, the job has {have}",
         "A package (or the project) declares `requires-python {want}` and the job's Python is {have}.",
         ("Run the job on a Python that satisfies it (`image: python:<version>`), or pin the dependency to a version "
          "that still supports {have}.",), 0.9,
         ("ERROR: Package 'acme-api' requires a different Python: 3.9.18 not in '>=3.10'",)),
    rule("go-toolchain", r"go\.mod requires go >= (?P<want>[\d.]+) \(running go (?P<have>[\d.]+)",
         C.configuration, "go.mod needs Go {want}, the job has {have}",
         "go.mod's `go` line asks for Go {want}, the job's image has {have}, and the toolchain may not be downloaded "
         "(GOTOOLCHAIN=local).",
         ("Use a `golang:` image of at least {want}, or let Go fetch the toolchain (`GOTOOLCHAIN=auto`), or lower the "
          "`go` line if nothing needs {want}.",), 0.95,
         ("go: go.mod requires go >= 1.22.0 (running go 1.21.5; GOTOOLCHAIN=local)",)),
    rule("rust-msrv",
         r"package `(?P<package>[^`]+)` cannot be built because it requires rustc (?P<want>[\d.]+) or newer, while the "
         r"currently active rustc version is (?P<have>[\d.]+)|rustc (?P<have2>[\d.]+) is not supported by the "
         r"following package",
         C.dependency, "A crate needs a newer rustc than the job's",
         "A dependency's minimum Rust version is newer than the job's rustc ({have}): it was upgraded (Cargo.lock, or "
         "no lock file) past what this toolchain builds.",
         ("Use a newer `rust:` image, or pin the crate to a version that supports this rustc (`cargo update -p "
          "<crate> --precise <version>`).",), 0.9,
         ("error: package `clap v4.5.0` cannot be built because it requires rustc 1.74 or newer, while the currently "
          "active rustc version is 1.70.0",), V.unknown),
    rule("lock-outdated",
         r"pyproject\.toml changed significantly since poetry\.lock was last generated|The lock file is not up to date "
         r"with the latest changes in pyproject\.toml|You are trying to install in deployment mode after changing your "
         r"Gemfile|the lock file \S+ needs to be updated but --locked was passed",
         C.dependency, "The lock file is out of date with the manifest",
         "The dependency manifest changed and its lock file was not regenerated and committed, so the job's locked "
         "install refuses to go on.",
         ("Regenerate the lock file locally (`poetry lock`, `bundle install`, `cargo update --workspace`) and commit "
          "it with the manifest.",), 0.95,
         ("pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock [--no-update]` "
          "to fix the lock file.",
          "You are trying to install in deployment mode after changing your Gemfile.",
          "error: the lock file /builds/acme/cli/Cargo.lock needs to be updated but --locked was passed to prevent this")),
    rule("node-too-old", r"SyntaxError: Unexpected token '(?:\?|\?\?=|\|\|=|&&=)'",
         C.configuration, "The job's Node is older than the code's syntax",
         "Node could not parse the code: either the job's Node is older than the syntax it uses (`?.`, `??`, `??=` "
         "need Node 14 or 15), or the file is TypeScript run without compiling it (`a?: string`).",
         ("If the log's Node is older than 14 (`node --version`), use a current image (`image: node:20`), matching "
          "package.json's `engines` and .nvmrc.", "If the file is TypeScript, run the compiled output or `tsx`/`ts-node`."),
         0.6,
         ("SyntaxError: Unexpected token '?'",), V.unknown),
    rule("service-on-localhost",
         r"connection to server at \"(?:localhost|127\.0\.0\.1)\" \([^)]*\), port (?P<port>\d+) failed: Connection "
         r"refused|connect ECONNREFUSED (?:127\.0\.0\.1|::1):(?P<port2>5432|3306|6379|27017|9200|5672|11211)\b",
         C.configuration, "Nothing listens on localhost:{port}",
         "The job expects a database or broker on localhost:{port} and nothing listens there. In GitLab CI a "
         "`services:` container is reached by its alias (`postgres`, `mysql`, `redis`) on the Docker executor and on "
         "localhost only on the Kubernetes executor; or the service is missing or had not finished starting.",
         ("Add the service (`services: [postgres:16]`) and point the job at its alias (`DATABASE_HOST: postgres`).",
          "Wait for it to accept connections before the tests (`pg_isready -h postgres`, a retry loop)."), 0.8,
         ('psql: error: connection to server at "localhost" (127.0.0.1), port 5432 failed: Connection refused',
          "Error: connect ECONNREFUSED 127.0.0.1:6379"), V.unknown),
)
# fmt: on

# Every rule the offline analyzer knows: the known causes first (more specific), then the general pack and the
# checks that report findings.
ALL_RULES: tuple[Rule, ...] = CAUSES + RULES + FINDINGS
