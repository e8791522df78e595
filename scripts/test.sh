#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Installs what the tests need into .tools/ (pinned Helm 4 and Helm 3, the Go YAML oracle) and
# the cluster tests' kube-apiserver and etcd (cached under ~/.cache/migration-hook/), starts
# them (stopped again on exit), then checks formatting and lints, then runs every test.
# Nothing is skipped when CI is set.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing pinned Helm (scripts/install-helm.sh)"
scripts/install-helm.sh
step "building the Kubernetes-meaning oracle (scripts/install-oracle.sh)"
scripts/install-oracle.sh >/dev/null

step "installing kube-apiserver and etcd (scripts/install-cluster.sh)"
scripts/install-cluster.sh
step "starting the cluster (scripts/cluster.sh start)"
trap 'scripts/cluster.sh stop' EXIT
scripts/cluster.sh start >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings
step "cargo test"
cargo test --locked --all-targets
