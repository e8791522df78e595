#!/usr/bin/env bash
# Baseline: what a kustomize-based Helm post-renderer does with a rendered
# stream (the classic approach: copy stdin to all.yaml, add patches, run
# kustomize).
#
# Builds a temporary kustomization directory whose only resource is the
# stream, plus JSON6902 patches that remove an init container, and runs
# `kubectl kustomize <dir>`, writing the result to stdout.
#
# Usage:
#   kustomize-baseline.sh [options] STREAM.yaml      (or - for stdin)
#
# Options:
#   --all            one patch per Deployment in the stream (every
#                    Deployment loses init container INDEX; Deployments
#                    with no initContainers key are left out)
#   --name NAME      the Deployment to patch in the default (one-patch)
#                    mode (default: app-0)
#   --index N        index of the init container to remove
#                    (default: 1, i.e. `migrate` in gen_stream.py output)
#   --kind KIND      kind of the patched workload(s) (default: Deployment)
#   --keep DIR       build in DIR (created, left in place) instead of a
#                    temporary directory that is removed afterwards
#   --kustomize CMD  command to run instead of `kubectl kustomize`
#                    (e.g. "kustomize build")
#
# Environment: KUSTOMIZE_ARGS is appended to the kustomize command line.
set -euo pipefail

all=0
name=app-0
index=1
kind=Deployment
keep=
kcmd="kubectl kustomize"
stream=

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --name) name=$2; shift ;;
    --index) index=$2; shift ;;
    --kind) kind=$2; shift ;;
    --keep) keep=$2; shift ;;
    --kustomize) kcmd=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    -) stream=- ;;
    -*) echo "kustomize-baseline: unknown option $1" >&2; exit 2 ;;
    *) stream=$1 ;;
  esac
  shift
done
[ -n "$stream" ] || { usage >&2; exit 2; }

if [ -n "$keep" ]; then
  dir=$keep
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kustomize-baseline.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
fi

# The stream is copied, as a post-renderer receiving stdin must do.
if [ "$stream" = - ]; then
  cat > "$dir/all.yaml"
else
  cat -- "$stream" > "$dir/all.yaml"
fi

# Names of the workloads to patch.
if [ "$all" = 1 ]; then
  # Per document: top-level `kind:` and the first `  name:` directly under
  # the top-level `metadata:` (in whatever order they come). Workloads
  # without an `initContainers:` key are skipped (the remove would fail).
  names=$(awk -v kind="$kind" '
    function flush() { if (k == kind && n != "" && init) print n; k = ""; n = ""; inmeta = 0; init = 0 }
    /^---/                   { flush(); next }
    /^kind:/                 { k = $2; gsub(/["\047]/, "", k); inmeta = 0; next }
    /^metadata:/             { inmeta = 1; next }
    /^[^ #]/                 { inmeta = 0 }
    inmeta && n == "" && /^  name:/ { n = $2; gsub(/["\047]/, "", n) }
    /^ +initContainers:/     { init = 1 }
    END                      { flush() }
  ' "$dir/all.yaml")
else
  names=$name
fi
[ -n "$names" ] || { echo "kustomize-baseline: no $kind found to patch" >&2; exit 1; }

{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - all.yaml"
  echo "patches:"
  for n in $names; do
    echo "  - target:"
    echo "      kind: $kind"
    echo "      name: $n"
    echo "    patch: |-"
    echo "      - op: remove"
    echo "        path: /spec/template/spec/initContainers/$index"
  done
} > "$dir/kustomization.yaml"

echo "kustomize-baseline: $(printf '%s\n' $names | wc -l) patch(es) in $dir" >&2
# shellcheck disable=SC2086
$kcmd "$dir" ${KUSTOMIZE_ARGS:-}
