#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Installs what the tests need into .tools/ (pinned Helm 4 and Helm 3, the Go YAML oracle) and
# the cluster tests' kube-apiserver and etcd (cached under ~/.cache/migration-hook/), starts
# them (stopped again on exit), then checks formatting and lints, then runs every test.
# Nothing is skipped when CI is set.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

# --quick: the day-to-day tier (about a minute when warm): formatting, lints, the unit tests and
# the fast integration tests; no downloads, no Helm, no oracle, no fuzzing, no cluster. CI always
# runs the whole suite (no flag).
case "${1:-}" in
"") ;;
--quick)
	step "cargo fmt --check"
	cargo fmt --all -- --check
	step "cargo clippy -D warnings"
	cargo clippy --locked --all-targets -- -D warnings
	step "cargo test (quick tier: unit tests and the fast integration tests)"
	# Left out: oracle, schema, fuzz, scanners, real_helm (and the Helm install of release),
	# and bad_input's 100 MB and 100,000-document inputs.
	cargo test --locked --lib --bins \
		--test cases --test cli --test corpus --test dependencies --test binary_output \
		--test parallel --test bad_input --test release -- \
		--skip a_100_mb --skip a_hundred_thousand --skip deep_nesting_in_a_large_input \
		--skip release_tarball_installs_with_helm4
	exit 0
	;;
*)
	printf 'usage: %s [--quick]\n' "$0" >&2
	exit 2
	;;
esac

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
