#!/usr/bin/env bash
# Install the Debian packages and the system user the test suite needs, when missing.
#
#   scripts/install-test-deps.sh [--with-chromium]
#
# Idempotent: exits 0 at once when everything is present; runs `apt-get update` only when
# something must be installed. Chromium (browser tests) is optional: pass --with-chromium or
# set MAILPORT_TEST_CHROMIUM=1. Needs root to install; without root and with something
# missing it says what and exits 1.
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-submissiond dovecot-lmtpd postfix openssl)
WITH_CHROMIUM="${MAILPORT_TEST_CHROMIUM:-0}"
for arg in "$@"; do
  case "$arg" in
    --with-chromium) WITH_CHROMIUM=1 ;;
    --without-chromium) WITH_CHROMIUM=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-test-deps: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
case "$WITH_CHROMIUM" in 1|yes|true) PACKAGES+=(chromium) ;; esac
LAB_USER=dovelab

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
need_user=0
id -u "$LAB_USER" >/dev/null 2>&1 || need_user=1

if [ ${#missing[@]} -eq 0 ] && [ $need_user -eq 0 ]; then
  echo "install-test-deps: all present (${PACKAGES[*]}, user $LAB_USER)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing: ${missing[*]:-}$([ $need_user -eq 1 ] && echo " user:$LAB_USER")" >&2
  echo "install-test-deps: not root; run as root: sudo $0 $*" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Nothing is started (no init here); the test lab runs its own instances from its own
  # config directories.
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ $need_user -eq 1 ]; then
  echo "install-test-deps: creating system user $LAB_USER"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$LAB_USER"
fi
echo "install-test-deps: done"
