#!/usr/bin/env bash
# demo.sh runs the part of kabiforge's pipeline that exists so far on the
# embedded demo packages. Later issues replace it with `kabiforge dev --demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: not yet wired; bin/kabiforge built" >&2
bin/kabiforge --help
