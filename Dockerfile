# cicd-bot container image.
#
#   docker build -t cicd-bot .
#   docker run --rm -p 8080:8080 -e GITLAB_WEBHOOK_SECRET=... cicd-bot            # serve (default)
#   docker run --rm -e DATABASE_URL=postgresql://... cicd-bot cicd-bot db upgrade   # migrate
#
# Build arguments (docs/deploy.md has the long form):
#   BASE_IMAGE       any Debian-like image with python3 (>= 3.11), python3-venv and ca-certificates.
#                    Both stages use it, so the venv built in the first stage finds the same
#                    interpreter at the same path in the second.
#   EXTRA_CA_CERTS   path, inside the build context, of a PEM file with one or more extra CA
#                    certificates (a TLS-inspecting proxy in front of PyPI, a GitLab with a private
#                    CA). Added to the system trust store in both stages. Empty = none.
#   PIP_INDEX_URL    the package index for the build (a PyPI mirror). It is used only in the
#                    builder stage, which is not part of the final image.
#
# Nothing here needs BuildKit: the file builds with the classic builder and with BuildKit alike,
# and it has no "# syntax=" line because that would make BuildKit fetch a frontend image.

ARG BASE_IMAGE=python:3.11-slim-bookworm

# --- builder: a virtual environment with the bot and its dependencies ------------------------
FROM ${BASE_IMAGE} AS builder

ARG EXTRA_CA_CERTS=""
ARG PIP_INDEX_URL=https://pypi.org/simple

# An image made with `docker import` has no environment at all, so PATH is spelled out in full
# rather than extended ("$PATH" would be empty there and leave out /usr/bin).
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

# COPY needs a source that exists, so with no EXTRA_CA_CERTS a file that is always in the
# context (pyproject.toml) is copied instead and ignored. pip is pointed at the system bundle
# (PIP_CERT above) because its own certifi bundle would not include the extra CA.
COPY ${EXTRA_CA_CERTS:-pyproject.toml} /tmp/extra-ca.pem
RUN set -eu; \
    if [ -n "${EXTRA_CA_CERTS}" ]; then \
        cp /tmp/extra-ca.pem /usr/local/share/ca-certificates/cicd-bot-extra-ca.crt; \
        update-ca-certificates; \
    fi; \
    rm -f /tmp/extra-ca.pem

# The venv lives at the same path in both stages (a venv cannot be moved). `python3 -m venv`
# works on python:3.11-slim (/usr/local/bin/python3) and on Debian's own python3 (/usr/bin/python3).
RUN python3 -m venv /opt/cicd-bot

# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
COPY pyproject.toml /src/pyproject.toml
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && /opt/cicd-bot/bin/pip install --requirement /tmp/requirements.txt

# Then the bot itself, as a wheel (not editable): the runtime image does not carry the source tree.
# pip and setuptools are build tools; nothing imports them at run time (checked with pip check
# and by running the command line after they are gone).
COPY . /src
RUN /opt/cicd-bot/bin/pip install --no-deps /src \
    && /opt/cicd-bot/bin/pip check \
    && /opt/cicd-bot/bin/pip uninstall --yes --quiet setuptools pip \
    && /opt/cicd-bot/bin/cicd-bot --help > /dev/null \
    && /opt/cicd-bot/bin/cicd-bot config > /dev/null

# --- runtime: the venv, a non-root user, nothing else ----------------------------------------
FROM ${BASE_IMAGE} AS runtime

LABEL org.opencontainers.image.title="cicd-bot" \
      org.opencontainers.image.description="Explains failed GitLab CI/CD pipelines in the merge request and in Slack" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/cicd-bot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOST=0.0.0.0 \
    PORT=8080 \
    SPOOL_DIR=/var/lib/cicd-bot/spool
# SSL_CERT_FILE names one bundle for every TLS client in the process (Python's ssl defaults,
# aiohttp for GitLab and Slack, the model SDKs' HTTP client), so the extra CA counts everywhere,
# and pointing it at a mounted file changes trust without a rebuild. PYTHONDONTWRITEBYTECODE:
# the bytecode was compiled at install time, and the root filesystem may be read-only.

# The same extra CA as in the builder, for GitLab, Slack and the model APIs at run time.
COPY --from=builder /usr/local/share/ca-certificates/ /usr/local/share/ca-certificates/
# A fixed numeric uid/gid: Kubernetes can check runAsNonRoot only against a numeric USER, and
# volumes can be prepared for it. /var/lib/cicd-bot is the working directory (SQLite's default
# file lands there when no DATABASE_URL is given) and holds the delivery spool.
RUN set -eu; \
    if [ -f /usr/local/share/ca-certificates/cicd-bot-extra-ca.crt ]; then update-ca-certificates; fi; \
    groupadd --gid 10001 cicd-bot; \
    useradd --uid 10001 --gid 10001 --home-dir /var/lib/cicd-bot --no-create-home --no-log-init \
        --shell /usr/sbin/nologin cicd-bot; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/cicd-bot /var/lib/cicd-bot/spool

COPY --from=builder /opt/cicd-bot /opt/cicd-bot

WORKDIR /var/lib/cicd-bot
USER 10001:10001
EXPOSE 8080

# /health answers without touching the database, so it says "the process serves HTTP". The check
# bypasses any HTTP(S)_PROXY in the environment (a proxy cannot reach the container's loopback)
# and reads PORT as the server does. It only fits `serve`: a `worker` container has no HTTP
# server, so compose.yaml turns the check off there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/cicd-bot/bin/python", "-c", "import os, sys, urllib.request as u; r = u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# Exec form: cicd-bot is PID 1 and receives SIGTERM itself; it stops claiming jobs and lets the
# running ones finish within SHUTDOWN_GRACE_SECONDS (give `docker stop -t` / the pod's
# terminationGracePeriodSeconds a little more than that).
CMD ["cicd-bot", "serve"]
