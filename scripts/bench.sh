#!/usr/bin/env bash
# Benchmark: the release binary, `kubectl kustomize` doing the same edit as a post-renderer
# would (scripts/kustomize-baseline.sh), and `cat` of the same bytes as the floor, side by
# side; medians, ratios, peak memory, and the issue's targets checked. Figures and the
# machine they came from go in BENCHMARKS.md.
#
# Usage: scripts/bench.sh [options]       (all options go to scripts/bench.py; --help there)
#
# Not part of scripts/test.sh (it takes a few minutes, most of them kustomize's). Needs
# python3 (the stream generator and the report); installs hyperfine and GNU time with apt-get
# when they are missing and it can (else times with its own loop); kustomize needs kubectl
# (without it those columns are left empty, and said so).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*" >&2; }

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing ${missing[*]} (apt-get)"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } \
      || step "could not install ${missing[*]}: falling back to the built-in timing loop"
  else
    step "${missing[*]} missing and not installable here: falling back to the built-in timing loop"
  fi
fi

step "building the release binary"
cargo build --release --locked --quiet

exec python3 scripts/bench.py "$@"
