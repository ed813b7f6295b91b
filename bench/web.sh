#!/usr/bin/env bash
# The web side's figures, each beside its peer measured in the same run:
# - GET /api/domains with 50 running domains (median of 30 over one
#   keep-alive connection) against `xenkvm list -l` (the CLI process making
#   the same registry call; median of 30 runs);
# - the console page's first paint and first contentful paint in Debian's
#   chromium after login (one domain running), against the login page's (a
#   small static page from the same server). Needs /dev/kvm, chromium and
#   web/node_modules.
# usage: bench/web.sh   (uses build/, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
export XENKVM_BUILD=${XENKVM_BUILD:-$PWD/build}
exec /usr/bin/python3 bench/web.py "$@"
