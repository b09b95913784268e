"""The offline analyzer's known causes: a job that fails for its environment (image, credentials, runner) is told
what that message is down to and what to change, not only where the log says it."""

from __future__ import annotations

import re

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.heuristics import analyze
from bot.core.types import Category, Verdict
from tests.unit.test_offline_formats2 import job

# name -> (image, the script's output, category, words the root cause must hold, words a fix step must hold)
CASES = {
    "dubious_ownership": (
        "alpine/git:2.43.0",
        "$ git describe --tags\n"
        "fatal: detected dubious ownership in repository at '/builds/acme/tools'\n"
        "To add an exception for this directory, call:\n"
        "\tgit config --global --add safe.directory /builds/acme/tools\n",
        Category.configuration,
        ["another user"],
        "safe.directory",
    ),
    "ssh_host_key": (
        "alpine:3.19",
        "$ scp dist/app.tgz deploy@web1.acme.example:/srv/releases/\nHost key verification failed.\nlost connection\n",
        Category.configuration,
        ["known_hosts"],
        "known_hosts",
    ),
    "pep668": (
        "debian:bookworm",
        "$ pip3 install -r requirements.txt\n"
        "error: externally-managed-environment\n\n"
        "× This environment is externally managed\n"
        "╰─> To install Python packages system-wide, try apt install\n"
        "    python3-xyz, where xyz is the package you are trying to\n"
        "    install.\n",
        Category.configuration,
        ["PEP 668"],
        "venv",
    ),
    "exec_format": (
        "docker:24.0",
        "$ docker run --rm registry.acme.example/tools/migrate:1.4.0\nexec /usr/local/bin/migrate: exec format error\n",
        Category.configuration,
        ["architecture"],
        "--platform",
    ),
    "glibc": (
        "debian:bullseye-slim",
        "$ ./bin/protoc-gen-acme --version\n"
        "./bin/protoc-gen-acme: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found "
        "(required by ./bin/protoc-gen-acme)\n",
        Category.configuration,
        ["GLIBC_2.34", "newer distribution"],
        "glibc",
    ),
    "java_class_version": (
        "eclipse-temurin:11-jre",
        "$ java -jar build/libs/app.jar --check\n"
        'Exception in thread "main" java.lang.UnsupportedClassVersionError: com/acme/App has been compiled by a more '
        "recent version of the Java Runtime (class file version 61.0), this version of the Java Runtime only "
        "recognizes class file versions up to 55.0\n"
        "\tat java.base/java.lang.ClassLoader.defineClass1(Native Method)\n",
        Category.configuration,
        ["class file version 61", "55"],
        "--release",
    ),
    "gradle_jdk": (
        "eclipse-temurin:21-jdk",
        "$ ./gradlew build\n"
        "FAILURE: Build failed with an exception.\n\n"
        "* What went wrong:\n"
        "Could not open cp_settings generic class cache for settings file '/builds/acme/api/settings.gradle'.\n"
        "> BUG! exception in phase 'semantic analysis' in source unit '_BuildScript_' Unsupported class file major "
        "version 65\n",
        Category.configuration,
        ["major version 65"],
        "gradle-version",
    ),
    "apt_package": (
        "debian:bookworm-slim",
        "$ apt-get install -y libpq-dev\n"
        "Reading package lists...\n"
        "Building dependency tree...\n"
        "E: Unable to locate package libpq-dev\n",
        Category.dependency,
        ["libpq-dev", "misspelt", "apt-get update"],
        "apt-get update",
    ),
    "git_no_credentials": (
        "alpine/git:2.43.0",
        "$ git submodule update --init\n"
        "Cloning into '/builds/acme/web/vendor/design-tokens'...\n"
        "fatal: could not read Username for 'https://gitlab.acme.example': terminal prompts disabled\n"
        "fatal: clone of 'https://gitlab.acme.example/acme/design-tokens.git' into submodule path "
        "'/builds/acme/web/vendor/design-tokens' failed\n",
        Category.permissions,
        ["https://gitlab.acme.example", "without a token"],
        "relative URLs",
    ),
    "job_token_download": (
        "alpine/git:2.43.0",
        "$ git clone https://gitlab-ci-token:[MASKED]@gitlab.acme.example/acme/fixtures.git\n"
        "Cloning into 'fixtures'...\n"
        "remote: You are not allowed to download code from this project.\n"
        "fatal: unable to access 'https://gitlab.acme.example/acme/fixtures.git/': The requested URL returned "
        "error: 403\n",
        Category.permissions,
        ["allowlist"],
        "allowlist",
    ),
    "helm_name": (
        "alpine/helm:3.14.0",
        "$ helm install api ./chart --namespace staging\n"
        "Error: INSTALLATION FAILED: cannot re-use a name that is still in use\n",
        Category.deploy,
        ["already exists"],
        "upgrade --install",
    ),
    "kubectl_unauthorized": (
        "bitnami/kubectl:1.29",
        "$ kubectl apply -f k8s/\nerror: You must be logged in to the server (Unauthorized)\n",
        Category.permissions,
        ["expired or was revoked"],
        "current-context",
    ),
    "x509": (
        "docker:24.0",
        "$ docker login registry.acme.internal -u ci --password-stdin\n"
        'Error response from daemon: Get "https://registry.acme.internal/v2/": x509: certificate signed by unknown '
        "authority\n",
        Category.configuration,
        ["CA"],
        "update-ca-certificates",
    ),
    "pg_dump": (
        "postgres:14",
        "$ pg_dump -h db.acme.internal -U app app > backup.sql\n"
        "pg_dump: error: aborting because of server version mismatch\n"
        "pg_dump: detail: server version: 16.2; pg_dump version: 14.11\n",
        Category.configuration,
        ["older than the server"],
        "postgresql-client",
    ),
    "npm_integrity": (
        "node:20",
        "$ npm ci\n"
        "npm ERR! code EINTEGRITY\n"
        "npm ERR! sha512-Xc4c0...== integrity checksum failed when using sha512: wanted sha512-Xc4c0...== but got "
        "sha512-9d2bk...==. (23915 bytes)\n",
        Category.dependency,
        ["package-lock.json"],
        "npm cache clean",
    ),
    "docker_copy_missing": (
        "docker:24.0",
        "$ docker build -t acme/api .\n"
        "#8 [builder 4/6] COPY requirements.lock ./\n"
        '#8 ERROR: failed to calculate checksum of ref 7c1d4bb2::q8l3k0w1: "/requirements.lock": not found\n'
        "------\n"
        " > [builder 4/6] COPY requirements.lock ./:\n"
        "------\n"
        "Dockerfile:9\n"
        "ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref 7c1d4bb2::q8l3k0w1: "
        '"/requirements.lock": not found\n',
        Category.build,
        ["/requirements.lock", ".dockerignore"],
        ".dockerignore",
    ),
    "bucket_exists": (
        "hashicorp/terraform:1.7",
        "$ terraform apply -auto-approve\n"
        "aws_s3_bucket.artifacts: Creating...\n"
        "╷\n"
        "│ Error: creating S3 Bucket (acme-prod-artifacts): operation error S3: CreateBucket, https response error "
        "StatusCode: 409, BucketAlreadyExists:\n"
        "│\n"
        "│   with aws_s3_bucket.artifacts,\n"
        '│   on storage.tf line 12, in resource "aws_s3_bucket" "artifacts":\n'
        "╵\n",
        Category.deploy,
        ["BucketAlreadyExists", "unique across all accounts"],
        "terraform import",
    ),
    "dind_missing": (
        "docker:24.0",
        "$ docker build -t registry.acme.example/web:$CI_COMMIT_SHORT_SHA .\n"
        "Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?\n",
        Category.configuration,
        ["docker:dind", "TLS"],
        "services:",
    ),
    "docker_socket": (
        "shell",
        "$ docker compose up -d db\n"
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "
        '"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: '
        "permission denied\n",
        Category.permissions,
        ["docker` group"],
        "usermod",
    ),
    "artifacts_413": (
        "node:20",
        "$ npm run build\n"
        "> web@1.0.0 build\n"
        "> vite build\n"
        "✓ built in 41.20s\n"
        "Uploading artifacts for successful job\n"
        "Uploading artifacts...\n"
        "dist/: found 14022 matching artifact files and directories\n"
        'ERROR: Uploading artifacts as "archive" to coordinator... 413 Request Entity Too Large  id=6543210 '
        "responseStatus=413 Request Entity Too Large status=413 token=64_Ab12\n"
        "FATAL: too large\n",
        Category.configuration,
        ["maximum artifacts size"],
        "artifacts:exclude",
    ),
    "image_platform": (
        "docker:24.0",
        "$ docker run --rm registry.acme.example/tools/lint:2.1 ./lint.sh\n"
        "Unable to find image 'registry.acme.example/tools/lint:2.1' locally\n"
        "2.1: Pulling from tools/lint\n"
        "docker: no matching manifest for linux/arm64/v8 in the manifest list entries.\n",
        Category.configuration,
        ["linux/arm64/v8"],
        "--platform",
    ),
    "missing_command": (
        "docker:24.0",
        "$ docker run --rm -v $PWD:/src registry.acme.example/python-base:3.12 pytest -q\n"
        "docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI "
        'runtime create failed: runc create failed: unable to start container process: exec: "pytest": executable '
        "file not found in $PATH: unknown.\n",
        Category.configuration,
        ["`pytest` is not on the PATH"],
        "before_script",
    ),
    "npm_e401": (
        "node:20",
        '$ npm ci\nnpm ERR! code E401\nnpm ERR! Unable to authenticate, need: Basic realm="GitLab Package Registry"\n',
        Category.permissions,
        ["protected"],
        "_authToken",
    ),
    "remote_ref_gone": (
        "alpine/git:2.43.0",
        "$ git fetch origin refs/heads/feature/invoice-pdf\n"
        "fatal: couldn't find remote ref refs/heads/feature/invoice-pdf\n",
        Category.configuration,
        ["refs/heads/feature/invoice-pdf", "deleted"],
        "obsolete",
    ),
    "import_name": (
        "python:3.9",
        "$ flask --app app routes\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/flask", line 5, in <module>\n'
        "    from flask.cli import main\n"
        '  File "/usr/local/lib/python3.9/site-packages/jinja2/__init__.py", line 12, in <module>\n'
        "    from .environment import Environment\n"
        "ImportError: cannot import name 'soft_unicode' from 'markupsafe' "
        "(/usr/local/lib/python3.9/site-packages/markupsafe/__init__.py)\n",
        Category.dependency,
        ["`markupsafe` has no `soft_unicode`", "unpinned"],
        "Pin `markupsafe`",
    ),
    "require_esm": (
        "node:18",
        "$ node scripts/check-links.js\n"
        "/builds/acme/docs/scripts/check-links.js:2\n"
        "const fetch = require('node-fetch');\n"
        "              ^\n\n"
        "Error [ERR_REQUIRE_ESM]: require() of ES Module /builds/acme/docs/node_modules/node-fetch/src/index.js from "
        "/builds/acme/docs/scripts/check-links.js not supported.\n",
        Category.dependency,
        ["`node-fetch`", "ES module"],
        "import('node-fetch')",
    ),
    "openssl3": (
        "node:18",
        "$ npm run build\n"
        "> web@0.1.0 build\n"
        "> react-scripts build\n"
        "Creating an optimized production build...\n"
        "Error: error:0308010C:digital envelope routines::unsupported\n"
        "    at new Hash (node:internal/crypto/hash:69:19)\n"
        "  opensslErrorStack: [ 'error:03000086:digital envelope routines::initialization error' ],\n"
        "  library: 'digital envelope routines',\n"
        "  reason: 'unsupported',\n"
        "  code: 'ERR_OSSL_EVP_UNSUPPORTED'\n",
        Category.dependency,
        ["OpenSSL 3"],
        "openssl-legacy-provider",
    ),
    "node_gyp": (
        "node:20-alpine",
        "$ npm ci\n"
        "npm ERR! code 1\n"
        "npm ERR! path /builds/acme/api/node_modules/bcrypt\n"
        "npm ERR! command sh -c node-pre-gyp install --fallback-to-build\n"
        "npm ERR! gyp info it worked if it ends with ok\n"
        "npm ERR! gyp ERR! find Python\n"
        "npm ERR! gyp ERR! configure error\n",
        Category.dependency,
        ["node-gyp", "Python"],
        "apk add python3 make g++",
    ),
    "wheel": (
        "python:3.12-alpine",
        "$ pip install -r requirements.txt\n"
        "Building wheels for collected packages: psycopg2\n"
        "  Building wheel for psycopg2 (pyproject.toml): started\n"
        "  error: subprocess-exited-with-error\n"
        "  × Building wheel for psycopg2 (pyproject.toml) did not run successfully.\n"
        "  │ exit code: 1\n"
        "      error: command 'gcc' failed: No such file or directory\n"
        "  ERROR: Failed building wheel for psycopg2\n"
        "ERROR: Could not build wheels for psycopg2, which is required to install pyproject.toml-based projects\n",
        Category.dependency,
        ["no prebuilt wheel", "compiler"],
        "build-essential",
    ),
    "ruby_version": (
        "ruby:3.1",
        "$ bundle install\nYour Ruby version is 3.1.4, but your Gemfile specified 3.2.2\n",
        Category.configuration,
        ["3.2.2", "3.1.4"],
        "ruby:3.2.2",
    ),
    "python_requires": (
        "python:3.9",
        "$ pip install .\n"
        "Processing /builds/acme/api\n"
        "ERROR: Package 'acme-api' requires a different Python: 3.9.18 not in '>=3.10'\n",
        Category.configuration,
        [">=3.10", "3.9.18"],
        "python:<version>",
    ),
    "go_toolchain": (
        "golang:1.21",
        "$ go build ./...\ngo: go.mod requires go >= 1.22.0 (running go 1.21.5; GOTOOLCHAIN=local)\n",
        Category.configuration,
        ["1.22.0", "1.21.5"],
        "GOTOOLCHAIN=auto",
    ),
    "rust_msrv": (
        "rust:1.70",
        "$ cargo build --release\n"
        "    Updating crates.io index\n"
        "error: package `clap v4.5.0` cannot be built because it requires rustc 1.74 or newer, while the currently "
        "active rustc version is 1.70.0\n",
        Category.dependency,
        ["1.70.0"],
        "--precise",
    ),
    "poetry_lock": (
        "python:3.12",
        "$ poetry install --no-root\n"
        "Installing dependencies from lock file\n\n"
        "pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock [--no-update]` "
        "to fix the lock file.\n",
        Category.dependency,
        ["lock file was not regenerated"],
        "poetry lock",
    ),
    "node_too_old": (
        "node:12",
        "$ node scripts/build.js\n"
        "/builds/acme/web/node_modules/undici/lib/core/util.js:31\n"
        "  return body?.constructor?.name === 'Blob'\n"
        "              ^\n\n"
        "SyntaxError: Unexpected token '.'\n"
        "$ node scripts/other.js\n"
        "/builds/acme/web/scripts/config.js:4\n"
        "const port = process.env.PORT ?? 3000;\n"
        "                              ^\n\n"
        "SyntaxError: Unexpected token '?'\n",
        Category.configuration,
        ["older than the syntax", "TypeScript"],
        "node:20",
    ),
    "service_localhost": (
        "python:3.12",
        "$ python manage.py migrate\n"
        'django.db.utils.OperationalError: connection to server at "localhost" (127.0.0.1), port 5432 failed: '
        "Connection refused\n"
        "\tIs the server running on that host and accepting TCP/IP connections?\n",
        Category.configuration,
        ["localhost:5432", "alias"],
        "services:",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_known_cause_is_explained_and_its_fix_given(name):
    image, body, category, cause_words, fix_words = CASES[name]
    answer = analyze(excerpt(job(image, body).encode()), failure_reason="script_failure")
    assert answer.category is category, (answer.category, answer.summary)
    for words in cause_words:
        assert words in answer.root_cause, f"{name}: {words!r} not in {answer.root_cause!r}"
    assert any(fix_words in step for step in answer.fix_steps), answer.fix_steps
    unfilled = re.compile(r"(?<!\$)\{[a-z_0-9]*\}")  # a template's field left as it was
    assert not unfilled.search(answer.root_cause) and not any(unfilled.search(step) for step in answer.fix_steps)


def test_an_environment_failure_is_not_blamed_on_the_change():
    # An image, a runner or a credential changed: the code may be fine.
    for name in ("ssh_host_key", "pep668", "glibc", "x509", "kubectl_unauthorized"):
        image, body, *_ = CASES[name]
        assert analyze(excerpt(job(image, body).encode())).verdict is Verdict.unknown, name


def test_a_known_cause_printed_by_an_earlier_command_does_not_explain_a_later_failure():
    # `apt-get install ... || true` failed and was ignored; the job failed on the tests after it.
    body = (
        "$ apt-get install -y graphviz-extra || true\n"
        "E: Unable to locate package graphviz-extra\n"
        "$ pytest -q\n"
        "F\n"
        "FAILED tests/test_api.py::test_create - assert 500 == 201\n"
    )
    answer = analyze(excerpt(job("python:3.12", body).encode()), failure_reason="script_failure")
    assert answer.category is Category.test, answer.root_cause
    assert "graphviz-extra" not in answer.root_cause


@pytest.mark.parametrize(
    "line",
    [
        "ImportError: cannot import name 'make_client' from 'app.utils' (/builds/acme/app/app/utils.py)",
        "x509: certificate is not valid for any names, but wanted to match registry.acme.internal",
        "Error: rpc error: code = AlreadyExists desc = a resource with that name already exists",
    ],
)
def test_a_message_that_only_looks_like_a_known_cause_is_not_explained_as_one(line):
    # The project's own module, a hostname mismatch, a gRPC status: not a pinned dependency, an untrusted CA, or a
    # resource to import into Terraform's state.
    answer = analyze(excerpt(job("python:3.12", f"$ ./run.sh\n{line}\n").encode()), failure_reason="script_failure")
    assert "Pin `" not in " ".join(answer.fix_steps)
    assert "update-ca-certificates" not in " ".join(answer.fix_steps)
    assert "terraform import" not in " ".join(answer.fix_steps)
