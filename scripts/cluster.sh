#!/usr/bin/env bash
# Start and stop the local control plane of the cluster tests: etcd and kube-apiserver on
# loopback only, installed by scripts/install-cluster.sh. No kubelet, no controller-manager,
# no scheduler: tests/cluster.rs stands in for the kubelet.
#
#   scripts/cluster.sh start   start them (or reuse the running ones), wait for /readyz,
#                              print the environment (as `env` does)
#   scripts/cluster.sh stop    stop the processes this script started, by their pids
#   scripts/cluster.sh env     print KEY=VALUE lines for the tests (non-zero if not running)
#   scripts/cluster.sh status  exit 0 when running and ready
#
# State (data, certificates, tokens, kubeconfig, pids, logs, the audit log) lives in
# ${MIGRATION_HOOK_CLUSTER_DIR:-<checkout>/target/cluster}. The apiserver writes every mutating
# request, in order, to audit.log (JSON lines; gets, lists and watches are not logged, except
# for pods and pod logs), and authenticates two tokens, both in system:masters: `helm-user`
# (kubeconfig) and `kubelet-stand-in` (the tests' stand-in kubelet), so the log tells them
# apart.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly SCRIPT_DIR
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/.." && pwd -P)"
readonly REPO_ROOT
readonly STATE="${MIGRATION_HOOK_CLUSTER_DIR:-${REPO_ROOT}/target/cluster}"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: ERROR: %s\n' "$*" >&2; exit 1; }

alive() { [[ -f "${STATE}/$1.pid" ]] && kill -0 "$(cat "${STATE}/$1.pid")" 2>/dev/null; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port from $1 up, not among those already taken in this run.
TAKEN=" "
free_port() {
  local p="$1"
  while ! port_free "${p}" || [[ "${TAKEN}" == *" ${p} "* ]]; do
    p=$((p + 1))
    ((p < 65000)) || die "no free port"
  done
  TAKEN+="${p} "
  printf '%s\n' "${p}"
}

ready() {
  [[ -f "${STATE}/env" ]] || return 1
  local port token
  port="$(sed -n 's/^MIGRATION_HOOK_CLUSTER_PORT=//p' "${STATE}/env")"
  token="$(cut -d, -f1 "${STATE}/tokens.csv" | head -n1)"
  curl -fsk --max-time 2 -H "Authorization: Bearer ${token}" "https://127.0.0.1:${port}/readyz" >/dev/null 2>&1
}

print_env() { cat "${STATE}/env"; }

start() {
  if alive etcd && alive kube-apiserver && ready; then
    log "already running (${STATE})"
    print_env
    return 0
  fi
  stop_quietly
  local paths apiserver etcd
  paths="$("${SCRIPT_DIR}/install-cluster.sh" --print-paths)" \
    || die "the binaries are not installed: run scripts/install-cluster.sh"
  apiserver="$(sed -n 's/^APISERVER=//p' <<<"${paths}")"
  etcd="$(sed -n 's/^ETCD=//p' <<<"${paths}")"
  command -v openssl >/dev/null || die "openssl is needed"
  command -v curl >/dev/null || die "curl is needed"

  rm -rf -- "${STATE}"
  mkdir -p "${STATE}/etcd" "${STATE}/certs"
  chmod 700 "${STATE}"
  local etcd_port peer_port api_port
  etcd_port="$(free_port 23790)"
  peer_port="$(free_port $((etcd_port + 1)))"
  api_port="$(free_port 26443)"

  local helm_token standin_token
  helm_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  standin_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  cat >"${STATE}/tokens.csv" <<EOF
${helm_token},helm-user,1001,"system:masters"
${standin_token},kubelet-stand-in,1002,"system:masters"
EOF
  openssl genrsa -out "${STATE}/sa.key" 2048 2>/dev/null
  openssl rsa -in "${STATE}/sa.key" -pubout -out "${STATE}/sa.pub" 2>/dev/null
  cat >"${STATE}/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # Reading pods and their logs is logged too: that is how Helm copies a hook's pod logs.
  - level: Metadata
    verbs: [get, list]
    resources: [{group: "", resources: [pods, pods/log]}]
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
EOF

  log "starting etcd on 127.0.0.1:${etcd_port}"
  (
    cd "${STATE}"
    exec "${etcd}" --name test --data-dir "${STATE}/etcd" \
      --listen-client-urls "http://127.0.0.1:${etcd_port}" \
      --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
      --listen-peer-urls "http://127.0.0.1:${peer_port}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${peer_port}" \
      --initial-cluster "test=http://127.0.0.1:${peer_port}" \
      --log-level warn \
      >"${STATE}/etcd.log" 2>&1
  ) &
  echo $! >"${STATE}/etcd.pid"

  log "starting kube-apiserver on https://127.0.0.1:${api_port}"
  (
    cd "${STATE}"
    exec "${apiserver}" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "${api_port}" \
      --insecure-port 0 \
      --etcd-servers "http://127.0.0.1:${etcd_port}" \
      --token-auth-file "${STATE}/tokens.csv" \
      --authorization-mode RBAC \
      --service-account-key-file "${STATE}/sa.pub" \
      --service-account-signing-key-file "${STATE}/sa.key" \
      --service-account-issuer https://kubernetes.default.svc \
      --api-audiences https://kubernetes.default.svc \
      --service-cluster-ip-range 10.0.0.0/24 \
      --endpoint-reconciler-type none \
      --disable-admission-plugins ServiceAccount \
      --cert-dir "${STATE}/certs" \
      --audit-policy-file "${STATE}/audit-policy.yaml" \
      --audit-log-path "${STATE}/audit.log" \
      --audit-log-mode blocking --audit-log-format json \
      >"${STATE}/kube-apiserver.log" 2>&1
  ) &
  echo $! >"${STATE}/kube-apiserver.pid"

  cat >"${STATE}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: https://127.0.0.1:${api_port}
      insecure-skip-tls-verify: true
users:
  - name: helm-user
    user:
      token: ${helm_token}
contexts:
  - name: test
    context: {cluster: test, user: helm-user}
current-context: test
EOF
  chmod 600 "${STATE}/kubeconfig"
  cat >"${STATE}/env" <<EOF
KUBECONFIG=${STATE}/kubeconfig
MIGRATION_HOOK_CLUSTER_DIR=${STATE}
MIGRATION_HOOK_CLUSTER_PORT=${api_port}
MIGRATION_HOOK_CLUSTER_AUDIT_LOG=${STATE}/audit.log
MIGRATION_HOOK_CLUSTER_STAND_IN_TOKEN_FILE=${STATE}/stand-in.token
EOF
  printf '%s\n' "${standin_token}" >"${STATE}/stand-in.token"
  chmod 600 "${STATE}/stand-in.token"

  local started=$SECONDS
  until ready; do
    alive etcd || { tail -n 20 "${STATE}/etcd.log" >&2; die "etcd exited"; }
    alive kube-apiserver || { tail -n 30 "${STATE}/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
    ((SECONDS - started < 90)) || { tail -n 30 "${STATE}/kube-apiserver.log" >&2; die "kube-apiserver not ready after 90 s"; }
    sleep 0.5
  done
  log "ready in $((SECONDS - started)) s"
  print_env
}

stop_one() {
  local name="$1" pid i
  [[ -f "${STATE}/${name}.pid" ]] || return 0
  pid="$(cat "${STATE}/${name}.pid")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null || true
    log "stopped ${name} (pid ${pid})"
  fi
  rm -f -- "${STATE}/${name}.pid"
}

stop_quietly() {
  stop_one kube-apiserver
  stop_one etcd
}

case "${1:-}" in
  start) start ;;
  stop) stop_quietly ;;
  env) alive kube-apiserver && ready || die "not running (scripts/cluster.sh start)"; print_env ;;
  status) alive etcd && alive kube-apiserver && ready ;;
  *) usage; [[ "${1:-}" == -h || "${1:-}" == --help ]] ;;
esac
