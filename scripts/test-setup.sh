#!/usr/bin/env bash
# Prepares a machine for the test run (idempotent; a second run takes seconds):
#   1. Debian packages the suites need (apt-get only when one is missing);
#   2. node_modules (npm ci when missing or older than package-lock.json; see the
#      fallback below for the optional packages this registry lacks);
#   3. a throwaway PostgreSQL on 127.0.0.1 (own initdb in a temp dir, not the system
#      service), whose URL goes to .test-artifacts/pg-url. Stop it with scripts/pg-stop.sh.
# Runs as root on a fresh Debian 12 (CI=true, no stdin); as another user it needs the
# packages already installed (or passwordless sudo).
# Env: SKIP_APT=1 skips step 1, SKIP_LIBVIRT=1 step 2b, SKIP_PG=1 step 3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
art=.test-artifacts
mkdir -p "$art"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
# The cause is usually at the top (npm) or the bottom (apt, make): show both ends.
show_log() {
  if [ "$(wc -l <"$1")" -le 50 ]; then cat "$1" >&2
  else head -n 25 "$1" >&2; echo "  [...]" >&2; tail -n 25 "$1" >&2; fi
}
# Run a command, keeping its output in a log that is shown only when it fails.
quiet() {
  local log=$1; shift
  "$@" >"$log" 2>&1 || { show_log "$log"; die "'$*' failed (full log: $log)"; }
}

# --- 1. Debian packages -------------------------------------------------------------
# gsoap/libgsoap-dev (wsdl2h, soapcpp2, libgsoap; 3 packages, ~2 MB) and jaxws (wsimport and the JAX-WS runtime;
# ~53 packages, ~21 MB) with openjdk-17-jdk-headless (javac; the image has it) run the commands of wsdl/README.md
# against the app in test/e2e/soap/09-*, 10-* (gcc comes with the image). chromium-headless-shell renders the
# interop kit's HTML report to a screenshot in test/e2e/interop (issue 15 §3).
packages=(postgresql libxml2-utils python3-zeep python3-xmlsec python3-lxml python3-winrm
          wsl php-cli php-soap curl xmlstarlet xmlsec1 python3-cryptography python3-suds
          gsoap libgsoap-dev jaxws openjdk-17-jdk-headless chromium-headless-shell)
if [ "${SKIP_APT:-0}" = 1 ]; then
  say "apt: skipped (SKIP_APT=1)"
else
  missing=()
  for p in "${packages[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt: all ${#packages[@]} packages present"
  else
    sudo=()
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null && sudo -n true 2>/dev/null || die "not root; install: ${missing[*]}"
      sudo=(sudo -n)
    fi
    say "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    quiet "$art/apt-update.log" "${sudo[@]}" apt-get update -q
    quiet "$art/apt-install.log" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# --- 2. node_modules ------------------------------------------------------------------
# True when npm ci's only complaint is "Missing: X from lock file" for packages that the
# lock lists as optionalDependencies. The registry these machines reach has no builds for
# other platforms (e.g. @unrs/resolver-binding-darwin-x64 is a 404), so npm can never write
# them into the lock, and npm ci then refuses a lock that is otherwise complete.
only_foreign_optionals_missing() {
  node -e '
    const log = require("fs").readFileSync(process.argv[1], "utf8");
    if (!/npm ci. can only install packages when/.test(log)) process.exit(1);
    const missing = [...log.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
    const optional = new Set();
    for (const p of Object.values(require(process.cwd() + "/package-lock.json").packages))
      for (const n of Object.keys(p.optionalDependencies || {})) optional.add(n);
    process.exit(missing.length && missing.every((n) => optional.has(n)) ? 0 : 1);
  ' "$1"
}
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm: npm ci"
  if ! npm ci --no-audit --no-fund --loglevel=error >"$art/npm-ci.log" 2>&1; then
    if only_foreign_optionals_missing "$art/npm-ci.log"; then
      # Same lock, same versions; --no-save leaves package.json and the lock untouched.
      say "npm: npm ci rejects the lock only for other platforms' optional packages; npm install --no-save"
      rm -rf node_modules
      quiet "$art/npm-install.log" npm install --no-save --no-audit --no-fund --loglevel=error
    else
      show_log "$art/npm-ci.log"; die "npm ci failed (full log: $art/npm-ci.log)"
    fi
  fi
else
  say "npm: node_modules up to date"
fi

# --- 2b. libvirt (issue 12: the contract and e2e tiers drive real QEMU guests) ----------
# Installs and starts dbus, virtlogd, libvirtd and libvirt-dbus (scripts/libvirt-up.sh);
# .ci/test.sh stops them again with scripts/libvirt-down.sh.
if [ "${SKIP_LIBVIRT:-0}" = 1 ]; then
  say "libvirt: skipped (SKIP_LIBVIRT=1)"
else
  quiet "$art/libvirt-up.log" bash scripts/libvirt-up.sh
  say "libvirt: $(tail -n 1 "$art/libvirt-up.log" | sed 's/^libvirt-up: //') (qemu:///system, test:///default, pool cimi)"
fi

# --- 3. throwaway PostgreSQL ----------------------------------------------------------
[ "${SKIP_PG:-0}" = 1 ] && { say "postgres: skipped (SKIP_PG=1)"; exit 0; }

# A server left by an earlier run that was killed before its cleanup: stop it first.
bash scripts/pg-stop.sh

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"

# initdb/postgres refuse to run as root: as root, run them as the postgres user.
if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
  pgdir=$(mktemp -d /tmp/cimi-pg.XXXXXX)
  chown postgres: "$pgdir"
else
  as_pg() { "$@"; }
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/cimi-pg.XXXXXX")
fi
chmod 700 "$pgdir"
# Recorded at once so that pg-stop.sh can clean up even if the start below fails.
printf 'PG_DIR=%s\nPG_BIN=%s\n' "$pgdir" "$pgbin" >"$art/pg.env"

quiet "$art/pg-initdb.log" as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -E UTF8 --locale=C \
  --auth-local=trust --auth-host=scram-sha-256 --no-sync
as_pg mkdir "$pgdir/sock"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
started=0
for _ in 1 2 3; do   # a free port can be taken between the probe and the start: retry
  port=$(free_port)
  if as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 -s \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
       start >/dev/null 2>&1; then
    started=1; break
  fi
done
if [ $started = 0 ]; then
  tail -n 30 "$pgdir/server.log" >&2 || true
  bash scripts/pg-stop.sh
  die "PostgreSQL did not start"
fi
printf 'PG_PORT=%s\n' "$port" >>"$art/pg.env"

user=cimi_test
pass=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
# CREATEDB lets a suite make its own extra databases (e.g. one per jest worker).
quiet "$art/pg-createdb.log" as_pg "$pgbin/psql" -h "$pgdir/sock" -p "$port" -U postgres -d postgres \
  -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE $user LOGIN CREATEDB PASSWORD '$pass'" \
  -c "CREATE DATABASE cimi_test OWNER $user"

url="postgres://$user:$pass@127.0.0.1:$port/cimi_test"
# Prove the URL itself works (TCP + password), as the tests will use it.
[ "$("$pgbin/psql" "$url" -XAtqc 'select 1' 2>"$art/pg-check.log")" = 1 ] \
  || { cat "$art/pg-check.log" >&2; bash scripts/pg-stop.sh; die "cannot connect to $url"; }
printf '%s\n' "$url" >"$art/pg-url"
say "postgres: $("$pgbin/postgres" --version | awk '{print $3}') ready at $url"
