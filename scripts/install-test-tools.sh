#!/usr/bin/env bash
# Installs what the JVM tests of the Kotlin bindings need on a fresh Debian machine, and nothing
# that is already there. Safe to run again: every step checks first and says what it did.
#
#   kotlinc  npm package `kotlin-compiler` (ships the coroutines, kotlin-test and stdlib jars),
#            into the project-local, git-ignored .tools/npm
#   JNA      Debian `libjna-java`  (/usr/share/java/jna.jar)
#   JUnit 4  Debian `junit4`       (/usr/share/java/junit4.jar, with hamcrest)
#   java     Debian `default-jre-headless`, only when no `java` is on PATH
#   npm      Debian `npm`, only when no `npm` is on PATH
#   chromium Debian `chromium` and `chromium-driver`, only when missing: the headless browser
#            test of the server's web dashboard (tests/it/web_dashboard.rs) drives them
#   CJK font Debian `fonts-wqy-microhei`, so its screenshot shows Chinese names, not boxes
#   PostgreSQL  Debian `postgresql-15` (server binaries only: initdb, pg_ctl, postgres), only
#            when no /usr/lib/postgresql/<version>/bin/pg_ctl exists: the tests start a throwaway
#            cluster of their own on a Unix socket (sync-server/src/postgres/testing.rs); the
#            package's own cluster service is not needed and not started
#   OpenSSL  Debian `libssl-dev`, only when its headers are missing: the mobile library's store
#            is SQLCipher (core's `encryption` feature), which links the system's libcrypto
#   Python   PyPI `openapi-spec-validator` (validates the server's OpenAPI document) and
#            `prometheus-client` (its OpenMetrics parser reads the server's /metrics), for
#            sync-server/tests/it/ops.rs; Debian `python3` and `python3-pip` only when missing
#
# The test that uses the JVM tools is ffi/tests/kotlin.rs; ffi/README.md explains the whole
# set-up.
set -euo pipefail

KOTLIN_VERSION="2.4.20"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_prefix="$root/.tools/npm"
did=0

say() { printf 'install-test-tools: %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

apt_wanted=()
command -v java >/dev/null 2>&1 || apt_wanted+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || apt_wanted+=(npm)
[ -f /usr/share/java/jna.jar ] || apt_wanted+=(libjna-java)
[ -f /usr/share/java/junit4.jar ] || apt_wanted+=(junit4)
command -v chromium >/dev/null 2>&1 || apt_wanted+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_wanted+=(chromium-driver)
command -v python3 >/dev/null 2>&1 || apt_wanted+=(python3 python3-pip)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || apt_wanted+=(fonts-wqy-microhei)
have_postgres() {
    for pg_ctl in /usr/lib/postgresql/*/bin/pg_ctl; do
        [ -x "$pg_ctl" ] && return 0
    done
    return 1
}
have_postgres || apt_wanted+=(postgresql-15)
[ -f /usr/include/openssl/evp.h ] || apt_wanted+=(libssl-dev)

if [ "${#apt_wanted[@]}" -gt 0 ]; then
    say "apt-get install ${apt_wanted[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${apt_wanted[@]}"
    did=1
else
    say "java, npm, JNA, JUnit 4, chromium and the PostgreSQL server already installed"
fi

kotlin_pkg="$npm_prefix/node_modules/kotlin-compiler/package.json"
have_kotlin=""
if [ -f "$kotlin_pkg" ]; then
    have_kotlin="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$kotlin_pkg" | head -n 1)"
fi
if [ "$have_kotlin" != "$KOTLIN_VERSION" ]; then
    say "npm install kotlin-compiler@$KOTLIN_VERSION into .tools/npm (had: ${have_kotlin:-none})"
    mkdir -p "$npm_prefix"
    npm install --prefix "$npm_prefix" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "kotlin-compiler@$KOTLIN_VERSION"
    did=1
else
    say "kotlin-compiler $KOTLIN_VERSION already in .tools/npm"
fi

py_wanted=()
python3 -c "import openapi_spec_validator" 2>/dev/null || py_wanted+=(openapi-spec-validator)
python3 -c "import prometheus_client.openmetrics.parser" 2>/dev/null ||
    py_wanted+=(prometheus-client)
if [ "${#py_wanted[@]}" -gt 0 ]; then
    say "pip install ${py_wanted[*]}"
    # A Debian-managed Python refuses a plain install (PEP 668); these are test tools only.
    python3 -m pip install --quiet --disable-pip-version-check "${py_wanted[@]}" ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
            "${py_wanted[@]}"
    did=1
else
    say "openapi-spec-validator and prometheus-client already installed"
fi
for module in openapi_spec_validator prometheus_client.openmetrics.parser; do
    if ! python3 -c "import $module" 2>/dev/null; then
        say "still missing after install: python module $module" >&2
        exit 1
    fi
done

kotlinc="$npm_prefix/node_modules/kotlin-compiler/bin/kotlinc"
chmod +x "$npm_prefix"/node_modules/kotlin-compiler/bin/* 2>/dev/null || true
for needed in "$kotlinc" /usr/share/java/jna.jar /usr/share/java/junit4.jar \
    "$(command -v chromium || echo chromium)" "$(command -v chromedriver || echo chromedriver)"; do
    if [ ! -e "$needed" ]; then
        say "still missing after install: $needed" >&2
        exit 1
    fi
done

if ! have_postgres; then
    say "still missing after install: PostgreSQL server binaries (pg_ctl)" >&2
    exit 1
fi

if [ "$did" -eq 1 ]; then
    say "done; java: $(java -version 2>&1 | head -n 1)"
else
    say "nothing to do"
fi
