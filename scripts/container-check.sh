#!/usr/bin/env bash
# container-check.sh: build the cicd-bot image and prove that it works, on a machine that cannot
# pull base images. Run it by hand, as root, from anywhere in the repository:
#
#     sudo scripts/container-check.sh [--rebuild-base] [--remove-images]
#
# It is NOT for CI: it installs Debian packages, starts its own Docker daemon, and builds a base
# image with debootstrap. It is safe to run again: it reuses the base image and the layer cache,
# starts from a fresh database, and removes what it started when it ends (also on failure/Ctrl-C).
#
# What it does, and why each step is there:
#  1. Docker and debootstrap from Debian if missing; a Docker daemon started here with
#     `--bridge=none --iptables=false` (stopped again by its pid at the end). With no bridge,
#     a container can only be run with `--network host`, which every build and run here uses:
#     no container gets an address of its own.
#  2. A base image from debootstrap (bookworm, minbase + python3, python3-venv, ca-certificates)
#     from the Debian mirror this machine's apt uses, because registries of images are out of
#     reach. It is the harder of the two bases the Dockerfile supports: Debian's /usr/bin/python3
#     and no environment at all (not even PATH).
#  3. The image, with this machine's CA bundle as EXTRA_CA_CERTS so that pip inside the build
#     trusts the TLS proxy in front of PyPI, as it would behind a corporate proxy (and once
#     without it, to show that the empty default changes nothing).
#  4. A throwaway CA in that bundle and a TLS server on 127.0.0.1 signed by it: the bot's HTTP
#     clients (aiohttp, httpx2) in the image trust it; with an empty store they refuse it; a
#     bundle mounted at run time and named by SSL_CERT_FILE works without a rebuild.
#  5. A fresh PostgreSQL database on 127.0.0.1:5432; `serve` must refuse it before
#     `cicd-bot db upgrade`, and start after it.
#  6. `serve` with the root filesystem read-only, a tmpfs /tmp, a volume for the spool, all
#     capabilities dropped (what deploy/kubernetes asks for): /health, one authenticated Pipeline
#     Hook (2xx, a received_events row and a queue_jobs row in PostgreSQL), one with a wrong token
#     (refused), a non-root process, Docker's HEALTHCHECK reaching "healthy", a clean stop on SIGTERM.
#  7. `worker` starts and stops cleanly.
# Then a PASS/FAIL summary with the image size and the time of each step.
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${CICD_CHECK_WORK:-/var/tmp/cicd-bot-container-check}   # debootstrap tree, logs
BASE_IMAGE=cicd-bot-base:bookworm
IMAGE=cicd-bot:container-check
DB_NAME=cicd_container_check
PG=(-h 127.0.0.1 -p 5432 -U postgres)
DB_URL="postgresql://postgres@127.0.0.1:5432/${DB_NAME}"   # trust auth on this machine
CA_IN_CONTEXT=.container-check-ca.crt                       # removed again at exit
SERVE=cicd-bot-check-serve
WORKER=cicd-bot-check-worker
BEHIND=cicd-bot-check-behind
SPOOL_VOLUME=cicd-bot-check-spool
REBUILD_BASE=0
REMOVE_IMAGES=0

for arg in "$@"; do
  case "$arg" in
    --rebuild-base) REBUILD_BASE=1 ;;
    --remove-images) REMOVE_IMAGES=1 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "container-check.sh runs as root (it installs packages and starts dockerd)" >&2
  exit 2
fi

mkdir -p "$WORK"
T0=$(date +%s)
RESULTS=()     # "PASS|FAIL<TAB>check<TAB>detail"
TIMINGS=()     # "step<TAB>seconds"
FAILED=0
DOCKERD_PID=""
TLS_PID=""
IMAGE_SIZE="-"
STEP_NAME=""
STEP_START=0

log() { printf '[%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
pass() { RESULTS+=("PASS	$1	${2:-}"); log "PASS  $1${2:+ ($2)}"; }
fail() { RESULTS+=("FAIL	$1	${2:-}"); FAILED=1; log "FAIL  $1${2:+ ($2)}"; }
# A step that later steps cannot do without: stop here, clean up, print the summary.
fatal() { fail "$1" "${2:-}"; exit 1; }
step() {
  [ -n "$STEP_NAME" ] && TIMINGS+=("$STEP_NAME	$(( $(date +%s) - STEP_START ))")
  STEP_NAME=$1; STEP_START=$(date +%s); log "--- $1"
}

# Debian's docker.io client matches the daemon started below; a newer client on PATH
# (/usr/local/bin/docker) would work through API negotiation but warns about the classic builder.
DOCKER=docker
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker
# The classic builder: it honours --network host without BuildKit entitlements and fetches no
# frontend image. The Dockerfile has nothing BuildKit-only, so both builders take it.
export DOCKER_BUILDKIT=0

docker_up() { "$DOCKER" info >/dev/null 2>&1; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$STEP_NAME" ] && TIMINGS+=("$STEP_NAME	$(( $(date +%s) - STEP_START ))") && STEP_NAME=""
  log "--- cleanup"
  if docker_up; then
    for c in "$SERVE" "$WORKER" "$BEHIND"; do
      "$DOCKER" rm -f -v "$c" >/dev/null 2>&1 || true
    done
    "$DOCKER" volume rm "$SPOOL_VOLUME" >/dev/null 2>&1 || true
    if [ "$REMOVE_IMAGES" = 1 ]; then
      "$DOCKER" image rm "$IMAGE" "$BASE_IMAGE" >/dev/null 2>&1 || true
      "$DOCKER" image prune -f >/dev/null 2>&1 || true
    fi
  fi
  rm -f "$REPO/$CA_IN_CONTEXT"
  if [ -n "$TLS_PID" ]; then kill "$TLS_PID" 2>/dev/null || true; fi
  rm -rf "$WORK/tls"
  dropdb "${PG[@]}" --if-exists --force "$DB_NAME" >/dev/null 2>&1 || true
  if [ -n "$DOCKERD_PID" ]; then
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      log "dockerd (pid $DOCKERD_PID) did not stop in 30 s; sending SIGKILL"
      kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    fi
    log "stopped dockerd (pid $DOCKERD_PID)"
  fi
  summary
  if [ "$FAILED" = 0 ] && [ "$rc" = 0 ]; then exit 0; fi
  exit 1
}

summary() {
  local total=$(( $(date +%s) - T0 )) line npass=0 nfail=0
  echo
  echo "================ cicd-bot container check: summary ================"
  for line in "${RESULTS[@]}"; do
    IFS=$'\t' read -r status name detail <<<"$line"
    printf '%-4s  %-44s %s\n' "$status" "$name" "$detail"
    if [ "$status" = PASS ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
  done
  echo "-------------------------------------------------------------------"
  printf 'image %s: %s (base %s)\n' "$IMAGE" "$IMAGE_SIZE" "$BASE_IMAGE"
  echo "timings (s):"
  for line in "${TIMINGS[@]}"; do
    IFS=$'\t' read -r name secs <<<"$line"
    printf '  %-36s %5s\n' "$name" "$secs"
  done
  printf '  %-36s %5s\n' "total" "$total"
  if [ "$FAILED" = 0 ] && [ "$nfail" = 0 ] && [ "$npass" -gt 0 ]; then
    echo "RESULT: PASS ($npass checks)"
  else
    echo "RESULT: FAIL ($nfail of $((npass + nfail)) checks failed)"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The mirror this machine's apt uses for the bookworm suite (deb822 .sources or one-line lists).
debian_mirror() {
  python3 - <<'PY'
import glob, re
uris = []
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and "bookworm" in fields.get("suites", []) \
                and fields.get("enabled", ["yes"])[0] != "no":
            uris += fields.get("uris", [])
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        parts = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm":
            uris.append(parts[1])
print(uris[0] if uris else "")
PY
}

wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 1
  done
}

psql_value() { psql "${PG[@]}" -d "$DB_NAME" -XAtq -c "$1"; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

make_private_ca() {  # $WORK/tls/{ca.crt,server.crt,server.key}, valid for 2 days, for 127.0.0.1
  local d="$WORK/tls"
  rm -rf "$d"; mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cicd-bot container-check CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
      -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null
}

# What the bot's clients do: aiohttp (GitLab, Slack) and httpx2 (the model SDKs), each with
# its default TLS settings, against the private-CA server. Prints "aiohttp=200 httpx2=200".
TLS_PROBE='
import asyncio, sys
import aiohttp, httpx2
url = sys.argv[1]
async def main():
    out = []
    try:
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            out.append("aiohttp=%d" % r.status)
    except Exception as e:
        out.append("aiohttp=" + type(e).__name__)
    try:
        async with httpx2.AsyncClient() as c:
            out.append("httpx2=%d" % (await c.get(url)).status_code)
    except Exception as e:
        out.append("httpx2=" + type(e).__name__)
    print(" ".join(out))
asyncio.run(main())
'

# ------------------------------------------------------------------------------------------------
step "prerequisites"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v psql >/dev/null && command -v createdb >/dev/null || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  apt-get update -q >"$WORK/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$WORK/apt.log" 2>&1 \
    || fatal "install ${missing[*]}" "see $WORK/apt.log"
fi
pg_isready -q "${PG[@]}" || fatal "PostgreSQL on 127.0.0.1:5432" "not accepting connections"
pass "prerequisites" "$("$DOCKER" --version | cut -d, -f1), debootstrap, psql"

# ------------------------------------------------------------------------------------------------
step "docker daemon"
if docker_up; then
  log "a Docker daemon is already running; using it (and leaving it running)"
else
  # --bridge=none: no docker0 and no default bridge network, so no container gets a private
  # address; --iptables=false: the host's firewall is left alone.
  dockerd --bridge=none --iptables=false >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  log "started dockerd (pid $DOCKERD_PID, log $WORK/dockerd.log)"
  wait_for 60 docker_up || fatal "docker daemon" "not up after 60 s; see $WORK/dockerd.log"
fi
pass "docker daemon" "server $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null), storage $("$DOCKER" info -f '{{.Driver}}' 2>/dev/null)"

# ------------------------------------------------------------------------------------------------
step "base image (debootstrap)"
if [ "$REBUILD_BASE" = 0 ] && "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "reusing $BASE_IMAGE (--rebuild-base makes it again)"
else
  MIRROR=${DEBIAN_MIRROR:-$(debian_mirror)}
  [ -n "$MIRROR" ] || fatal "Debian mirror" "none for bookworm in /etc/apt/sources.list(.d); set DEBIAN_MIRROR"
  ROOTFS="$WORK/rootfs"
  rm -rf "$ROOTFS"
  log "debootstrap bookworm from $MIRROR"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || fatal "debootstrap" "see $WORK/debootstrap.log"
  # Downloaded packages and package lists are not needed in an image.
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | "$DOCKER" import - "$BASE_IMAGE" >/dev/null \
    || fatal "docker import" "$BASE_IMAGE"
  rm -rf "$ROOTFS"
fi
base_python=$("$DOCKER" run --rm --network host "$BASE_IMAGE" /usr/bin/python3 --version 2>&1) \
  || fatal "base image runs python3" "$base_python"
pass "base image $BASE_IMAGE" "$base_python, $(( $("$DOCKER" image inspect -f '{{.Size}}' "$BASE_IMAGE") / 1000000 )) MB"

# ------------------------------------------------------------------------------------------------
step "image build"
# First without EXTRA_CA_CERTS: the empty default must be a no-op. Behind this machine's TLS
# proxy pip then cannot trust PyPI, and the build has to stop there with a certificate error;
# where nothing intercepts TLS the build simply succeeds. Anything else is a failure.
set +e
"$DOCKER" build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE-noca" "$REPO" >"$WORK/build-noca.log" 2>&1
noca_rc=$?
set -e
"$DOCKER" image rm "$IMAGE-noca" >/dev/null 2>&1 || true
if [ "$noca_rc" = 0 ]; then
  pass "build without EXTRA_CA_CERTS" "builds (no TLS interception here)"
elif grep -q "CERTIFICATE_VERIFY_FAILED" "$WORK/build-noca.log"; then
  pass "build without EXTRA_CA_CERTS" "default is a no-op; pip rejects the proxy's certificate, as expected"
else
  fail "build without EXTRA_CA_CERTS" "failed otherwise; see $WORK/build-noca.log"
fi

# The host's bundle holds the CA of the TLS proxy in front of PyPI. It goes into the build
# context under a name of our own, and is removed again at exit.
# A throwaway CA stands in for a company's private CA (a GitLab at https://gitlab.internal):
# it is added to the same bundle, and the step after the build checks that the bot's HTTP
# clients trust a server whose certificate it signed.
make_private_ca
cat /etc/ssl/certs/ca-certificates.crt "$WORK/tls/ca.crt" > "$REPO/$CA_IN_CONTEXT"
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "EXTRA_CA_CERTS=$CA_IN_CONTEXT")
# pip on this host reads only certificate and local wheel settings (cert, find-links, file://
# indexes) that mean nothing inside the build; the CA above is what it needs. An index URL
# set on the host (a mirror) is passed on; a file:// one would not exist in the build.
host_index=${PIP_INDEX_URL:-$(pip3 config get global.index-url 2>/dev/null || true)}
case "$host_index" in
  http://*|https://*) build_args+=(--build-arg "PIP_INDEX_URL=$host_index"); log "PIP_INDEX_URL from the host: $host_index" ;;
esac
if "$DOCKER" build --network host "${build_args[@]}" -t "$IMAGE" "$REPO" >"$WORK/build.log" 2>&1; then
  rm -f "$REPO/$CA_IN_CONTEXT"
  IMAGE_SIZE="$(( $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE") / 1000000 )) MB"
  pass "docker build (--network host)" "$IMAGE, $IMAGE_SIZE"
else
  tail -n 40 "$WORK/build.log"
  fatal "docker build" "see $WORK/build.log"
fi
image_user=$("$DOCKER" image inspect -f '{{.Config.User}}' "$IMAGE")
case "$image_user" in
  ""|0|0:*|root|root:*) fail "image USER is not root" "USER=${image_user:-<unset>}" ;;
  *) pass "image USER is not root" "USER=$image_user" ;;
esac

# ------------------------------------------------------------------------------------------------
step "private CA"
TLS_PORT=$(free_port)
python3 -c '
import http.server, ssl, sys
port, d = int(sys.argv[1]), sys.argv[2]
srv = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/server.crt", d + "/server.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
' "$TLS_PORT" "$WORK/tls" >"$WORK/tls-server.log" 2>&1 &
TLS_PID=$!
wait_for 10 curl -fsS --noproxy '*' --cacert "$WORK/tls/ca.crt" -o /dev/null "https://127.0.0.1:$TLS_PORT/" \
  || fatal "TLS test server" "see $WORK/tls-server.log"
tls_url="https://127.0.0.1:$TLS_PORT/"
got=$("$DOCKER" run --rm --network host --read-only "$IMAGE" python -c "$TLS_PROBE" "$tls_url" 2>&1 | tail -n1) || true
[ "$got" = "aiohttp=200 httpx2=200" ] \
  && pass "EXTRA_CA_CERTS trusted at run time" "$got" \
  || fail "EXTRA_CA_CERTS trusted at run time" "$got"
# Control: the same clients with an empty trust store must refuse, or the check above proves nothing.
got=$("$DOCKER" run --rm --network host --read-only -e SSL_CERT_FILE=/dev/null "$IMAGE" python -c "$TLS_PROBE" "$tls_url" 2>&1 | tail -n1) || true
case "$got" in
  *aiohttp=200*|*httpx2=200*) fail "empty trust store refuses the private CA" "$got" ;;
  *) pass "empty trust store refuses the private CA" "$got" ;;
esac
# Without a rebuild: a bundle mounted into the container and named by SSL_CERT_FILE.
got=$("$DOCKER" run --rm --network host --read-only -v "$WORK/tls/ca.crt:/etc/cicd-bot/ca.pem:ro" \
      -e SSL_CERT_FILE=/etc/cicd-bot/ca.pem "$IMAGE" python -c "$TLS_PROBE" "$tls_url" 2>&1 | tail -n1) || true
[ "$got" = "aiohttp=200 httpx2=200" ] \
  && pass "mounted bundle via SSL_CERT_FILE" "$got" \
  || fail "mounted bundle via SSL_CERT_FILE" "$got"
kill "$TLS_PID" 2>/dev/null || true; wait "$TLS_PID" 2>/dev/null || true; TLS_PID=""

# ------------------------------------------------------------------------------------------------
step "database + migration"
for c in "$SERVE" "$WORKER" "$BEHIND"; do "$DOCKER" rm -f -v "$c" >/dev/null 2>&1 || true; done
"$DOCKER" volume rm "$SPOOL_VOLUME" >/dev/null 2>&1 || true
dropdb "${PG[@]}" --if-exists --force "$DB_NAME"
createdb "${PG[@]}" "$DB_NAME" || fatal "createdb $DB_NAME"
pass "fresh database" "$DB_NAME on 127.0.0.1:5432"

PORT=$(free_port)

# The same flags as the serve container below, so each check runs under the Kubernetes limits.
hardening=(--network host --read-only --tmpfs /tmp:rw,size=64m --cap-drop ALL --security-opt no-new-privileges)

# serve must refuse a PostgreSQL schema that is behind (that is why compose and Kubernetes run a
# migration first); it exits at once, so a time limit guards only against a hang.
set +e
behind_out=$(timeout 120 "$DOCKER" run --rm --name "$BEHIND" "${hardening[@]}" \
    -e DATABASE_URL="$DB_URL" -e HOST=127.0.0.1 -e PORT="$PORT" "$IMAGE" 2>&1)
behind_rc=$?
set -e
if [ "$behind_rc" = 2 ] && grep -q "cicd-bot db upgrade" <<<"$behind_out"; then
  pass "serve refuses an unmigrated database" "exit 2: $(tail -n1 <<<"$behind_out" | cut -c1-70)..."
else
  fail "serve refuses an unmigrated database" "exit $behind_rc: $(tail -n1 <<<"$behind_out")"
fi

if migrate_out=$("$DOCKER" run --rm "${hardening[@]}" -e DATABASE_URL="$DB_URL" "$IMAGE" \
      cicd-bot db upgrade 2>&1); then
  pass "cicd-bot db upgrade (container)" "$(tail -n1 <<<"$migrate_out")"
else
  echo "$migrate_out" | tail -n 20
  fatal "cicd-bot db upgrade (container)"
fi
tables=$(psql_value "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
pass "schema in PostgreSQL" "$tables tables"

# ------------------------------------------------------------------------------------------------
step "serve"
SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
# HOST=127.0.0.1: with the host's network, 0.0.0.0 would listen on every interface of this
# machine. --health-interval only shortens Docker's wait between checks; the check itself is
# the image's HEALTHCHECK command.
"$DOCKER" run -d --name "$SERVE" "${hardening[@]}" \
    -v "$SPOOL_VOLUME:/var/lib/cicd-bot/spool" \
    -e DATABASE_URL="$DB_URL" -e HOST=127.0.0.1 -e PORT="$PORT" \
    -e GITLAB_WEBHOOK_SECRET="$SECRET" -e GITLAB_BASE_URL=https://gitlab.example.com \
    -e LOG_FORMAT=json --health-interval 2s \
    "$IMAGE" >/dev/null
health_url="http://127.0.0.1:$PORT/health"
if wait_for 60 curl -fsS --noproxy '*' "$health_url"; then
  pass "GET /health" "$(curl -fsS --noproxy '*' "$health_url") on port $PORT"
else
  "$DOCKER" logs --tail 30 "$SERVE" 2>&1
  fatal "GET /health" "no answer within 60 s"
fi
detailed=$(curl -sS --noproxy '*' "http://127.0.0.1:$PORT/health/detailed" || true)
if python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["database"]["reachable"] and d["database"]["migrations"]["up_to_date"] else 1)' "$detailed" 2>/dev/null; then
  pass "GET /health/detailed" "database reachable, schema up to date"
else
  fail "GET /health/detailed" "$(cut -c1-200 <<<"$detailed")"
fi

pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$SERVE")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
if [ -n "$uid" ] && [ "$uid" != 0 ]; then
  pass "serve process is not root" "uid $uid ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-50))"
else
  fail "serve process is not root" "uid ${uid:-?}"
fi
if "$DOCKER" exec "$SERVE" sh -c ': > "$SPOOL_DIR/.write-probe" && rm "$SPOOL_DIR/.write-probe" && ! touch /opt/cicd-bot/.probe 2>/dev/null'; then
  pass "spool writable, root filesystem read-only" "SPOOL_DIR=$("$DOCKER" exec "$SERVE" sh -c 'echo $SPOOL_DIR')"
else
  fail "spool writable, root filesystem read-only"
fi

# ------------------------------------------------------------------------------------------------
step "webhook"
PIPELINE_ID=$(( 900000 + $(date +%s) % 100000 ))
PROJECT_ID=4242
payload=$(cat <<JSON
{
  "object_kind": "pipeline",
  "object_attributes": {
    "id": $PIPELINE_ID, "iid": 318, "name": null, "ref": "main", "tag": false,
    "sha": "9c1e5b3a7d2f4e6a8b0c1d2e3f4a5b6c7d8e9f01",
    "before_sha": "2b7d9e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b",
    "source": "push", "status": "failed", "detailed_status": "failed",
    "stages": ["build", "test"],
    "created_at": "2025-06-02 08:14:07 UTC", "finished_at": "2025-06-02 08:21:55 UTC",
    "duration": 441, "queued_duration": 3, "variables": [],
    "url": "https://gitlab.example.com/acme/payments/ledger/-/pipelines/$PIPELINE_ID"
  },
  "merge_request": null,
  "user": {"id": 31, "name": "Dana Example", "username": "dana",
           "avatar_url": "https://gitlab.example.com/uploads/-/system/user/avatar/31/avatar.png",
           "email": "[REDACTED]"},
  "project": {
    "id": $PROJECT_ID, "name": "ledger", "description": "Double-entry ledger service",
    "web_url": "https://gitlab.example.com/acme/payments/ledger", "avatar_url": null,
    "git_ssh_url": "git@gitlab.example.com:acme/payments/ledger.git",
    "git_http_url": "https://gitlab.example.com/acme/payments/ledger.git",
    "namespace": "payments", "visibility_level": 0,
    "path_with_namespace": "acme/payments/ledger", "default_branch": "main", "ci_config_path": ""
  },
  "commit": {
    "id": "9c1e5b3a7d2f4e6a8b0c1d2e3f4a5b6c7d8e9f01",
    "message": "Round balances half-even before posting\n",
    "title": "Round balances half-even before posting",
    "timestamp": "2025-06-02T08:13:41+00:00",
    "url": "https://gitlab.example.com/acme/payments/ledger/-/commit/9c1e5b3a7d2f4e6a8b0c1d2e3f4a5b6c7d8e9f01",
    "author": {"name": "Dana Example", "email": "dana@example.com"}
  },
  "builds": [
    {"id": 5550102, "stage": "test", "name": "unit-tests", "status": "failed",
     "created_at": "2025-06-02 08:14:07 UTC", "started_at": "2025-06-02 08:17:12 UTC",
     "finished_at": "2025-06-02 08:21:55 UTC", "duration": 283.4, "queued_duration": 1.2,
     "failure_reason": "script_failure", "when": "on_success", "manual": false,
     "allow_failure": false,
     "user": {"id": 31, "name": "Dana Example", "username": "dana", "email": "[REDACTED]"},
     "runner": {"id": 12, "description": "shared-runner-3", "runner_type": "instance_type",
                "active": true, "is_shared": true, "tags": ["docker"]},
     "artifacts_file": {"filename": null, "size": null}, "environment": null},
    {"id": 5550101, "stage": "build", "name": "build", "status": "success",
     "created_at": "2025-06-02 08:14:07 UTC", "started_at": "2025-06-02 08:14:10 UTC",
     "finished_at": "2025-06-02 08:17:10 UTC", "duration": 180.1, "queued_duration": 2.0,
     "failure_reason": null, "when": "on_success", "manual": false, "allow_failure": false,
     "user": {"id": 31, "name": "Dana Example", "username": "dana", "email": "[REDACTED]"},
     "runner": {"id": 12, "description": "shared-runner-3", "runner_type": "instance_type",
                "active": true, "is_shared": true, "tags": ["docker"]},
     "artifacts_file": {"filename": "artifacts.zip", "size": 1843},
     "environment": null}
  ]
}
JSON
)
post_hook() {  # post_hook TOKEN -> prints the HTTP status
  curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/webhooks/gitlab" \
    -H 'Content-Type: application/json' -H 'User-Agent: GitLab/17.11.1' \
    -H 'X-Gitlab-Event: Pipeline Hook' -H "X-Gitlab-Token: $1" \
    -H "X-Gitlab-Event-UUID: $(python3 -c 'import uuid; print(uuid.uuid4())')" \
    -H 'X-Gitlab-Instance: https://gitlab.example.com' \
    --data-binary "$payload"
}
rows_for_pipeline() {
  psql_value "SELECT count(*) FROM received_events WHERE project_id = $PROJECT_ID AND object_id = $PIPELINE_ID"
}
code=$(post_hook "not-the-secret") || true
rows=$(rows_for_pipeline)
case "$code:$rows" in
  401:0|403:0) pass "webhook with a wrong token is refused" "HTTP $code, nothing recorded" ;;
  *) fail "webhook with a wrong token is refused" "HTTP $code, $rows rows recorded" ;;
esac
code=$(post_hook "$SECRET") || true
case "$code" in
  2??) pass "signed Pipeline Hook accepted" "HTTP $code, pipeline $PIPELINE_ID" ;;
  *) fail "signed Pipeline Hook accepted" "HTTP $code"; "$DOCKER" logs --tail 20 "$SERVE" 2>&1 ;;
esac
# The door records and enqueues in one transaction before it answers, so the rows are there now.
event=$(psql_value "SELECT id || ' ' || outcome FROM received_events
                    WHERE source = 'gitlab_webhook' AND event_type = 'Pipeline Hook'
                      AND project_id = $PROJECT_ID AND object_id = $PIPELINE_ID" | head -n1)
if [ -n "$event" ]; then
  pass "received_events row" "id ${event% *}, outcome ${event#* }"
  job=$(psql_value "SELECT id || ' ' || kind || ' ' || state FROM queue_jobs WHERE event_id = ${event% *}" | head -n1)
  if [ -n "$job" ]; then
    pass "queue_jobs row" "id ${job%% *}, kind/state $(cut -d' ' -f2- <<<"$job" | tr ' ' /)"
  else
    fail "queue_jobs row" "none for event ${event% *}"
  fi
else
  fail "received_events row" "none for pipeline $PIPELINE_ID"
  fail "queue_jobs row" "no event to look for"
fi

# ------------------------------------------------------------------------------------------------
step "healthcheck + stop"
health_state() { "$DOCKER" inspect -f '{{.State.Health.Status}}' "$SERVE"; }
is_healthy() { [ "$(health_state)" = healthy ]; }
if wait_for 90 is_healthy; then
  pass "Docker HEALTHCHECK" "healthy ($("$DOCKER" inspect -f '{{len .State.Health.Log}}' "$SERVE") probes run)"
else
  fail "Docker HEALTHCHECK" "state $(health_state): $("$DOCKER" inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$SERVE" | tail -n 2)"
fi
stop_start=$(date +%s)
"$DOCKER" stop -t 40 "$SERVE" >/dev/null
stop_rc=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$SERVE")
if [ "$stop_rc" = 0 ]; then
  pass "serve stops cleanly on SIGTERM" "exit 0 after $(( $(date +%s) - stop_start )) s"
else
  fail "serve stops cleanly on SIGTERM" "exit $stop_rc"; "$DOCKER" logs --tail 20 "$SERVE" 2>&1
fi

# ------------------------------------------------------------------------------------------------
step "worker"
# Without GITLAB_API_TOKEN and model keys the worker calls nothing outside this machine.
"$DOCKER" run -d --name "$WORKER" "${hardening[@]}" --no-healthcheck \
    -v /var/lib/cicd-bot/spool -e DATABASE_URL="$DB_URL" "$IMAGE" cicd-bot worker >/dev/null
worker_running() { "$DOCKER" logs "$WORKER" 2>&1 | grep -q 'worker running'; }
if wait_for 60 worker_running; then
  pass "cicd-bot worker starts" "$("$DOCKER" logs "$WORKER" 2>&1 | grep -o 'cicd-bot worker running.*' | head -n1)"
else
  fail "cicd-bot worker starts" "$("$DOCKER" logs --tail 5 "$WORKER" 2>&1 | tr '\n' ' ')"
fi
"$DOCKER" stop -t 40 "$WORKER" >/dev/null
worker_rc=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$WORKER")
if [ "$worker_rc" = 0 ]; then pass "worker stops cleanly on SIGTERM" "exit 0"; else fail "worker stops cleanly on SIGTERM" "exit $worker_rc"; fi
"$DOCKER" rm -v "$WORKER" >/dev/null 2>&1 || true

exit 0
