#!/usr/bin/env python3
"""Generate a synthetic `helm template`-style multi-document YAML stream.

Deterministic (no randomness): the same options always give byte-identical
output. Standard library only.

Every document starts with
    ---
    # Source: <chart>/templates/<file>.yaml

Layout:
  * a few chart-level documents first: a NetworkPolicy (no namespace),
    a ClusterRole and a large (~50 KB) CustomResourceDefinition;
  * then N "app units", unit i being, in this order:
      ConfigMap app-i-config, Secret app-i-secret, ServiceAccount app-i,
      Service app-i, Deployment app-i, and for every 50th unit
      (i % 50 == 0) a PodDisruptionBudget app-i.

With --shape lean a unit is only ConfigMap app-i-config and Deployment app-i
(no Secret, ServiceAccount, Service or PDB; the migrate container reads only
the ConfigMap), and the ConfigMap's JSON value is larger by default: ~2,000
units, 4,000 documents in 10 MiB, the shape of the stream behind the
kustomize figure in the performance issue (kustomize's time grows with the
square of the number of resources, so the default shape's ~10,000 documents
take it minutes).

Units are emitted until the output reaches --target-mb MiB
(1 MiB = 1,048,576 bytes; the annotation lines added by --mark are not
counted, so all three --mark modes give the same units); the defaults give
~10 MiB and ~2,000 Deployments.
The unit count and byte size are printed to stderr.

Usage:
  gen_stream.py [--target-mb N] [--mark none|one|all] [--shape full|lean]
                [--chart NAME] [--json-bytes N] > stream.yaml
"""

import argparse
import base64
import hashlib
import sys

MIB = 1024 * 1024
APP_VERSION = "1.4.2"
CHART_VERSION = "0.1.0"
MARK_ANNOTATION = "migration-hook/container"
MARK_CONTAINER = "migrate"


def header(chart, tmpl):
    return "---\n# Source: %s/templates/%s\n" % (chart, tmpl)


# --------------------------------------------------------------------------
# chart-level documents


def network_policy(chart, release):
    return header(chart, "networkpolicy.yaml") + f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {release}-default-deny
  labels:
    helm.sh/chart: {chart}-{CHART_VERSION}
    app.kubernetes.io/instance: {release}
    app.kubernetes.io/managed-by: Helm
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {release}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {release}
      ports:
        - protocol: TCP
          port: 8080
  egress:
    - to:
        - namespaceSelector: {{}}
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 5432
"""


def cluster_role(chart, release):
    rules = []
    for groups, resources, verbs in [
        ('""', '"configmaps", "secrets", "services"', '"get", "list", "watch"'),
        ('"apps"', '"deployments", "replicasets"', '"get", "list", "watch", "patch"'),
        ('"batch"', '"jobs"', '"get", "list", "watch", "create", "delete"'),
        ('"policy"', '"poddisruptionbudgets"', '"get", "list"'),
        ('"synth.example.com"', '"widgets", "widgets/status"', '"*"'),
    ]:
        rules.append(
            f"  - apiGroups: [{groups}]\n"
            f"    resources: [{resources}]\n"
            f"    verbs: [{verbs}]\n"
        )
    return header(chart, "clusterrole.yaml") + f"""\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {release}-operator
  labels:
    helm.sh/chart: {chart}-{CHART_VERSION}
    app.kubernetes.io/instance: {release}
    app.kubernetes.io/managed-by: Helm
rules:
""" + "".join(rules)


CRD_TYPES = ["string", "integer", "boolean", "string", "number", "string"]


def crd(chart, release, target_bytes=50 * 1024):
    """A CustomResourceDefinition whose schema is padded to ~target_bytes."""
    head = header(chart, "crds/widgets.yaml") + f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.synth.example.com
  labels:
    helm.sh/chart: {chart}-{CHART_VERSION}
    app.kubernetes.io/instance: {release}
    app.kubernetes.io/managed-by: Helm
  annotations:
    controller-gen.kubebuilder.io/version: v0.14.0
spec:
  group: synth.example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
    shortNames:
      - wdg
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources:
        status: {{}}
      additionalPrinterColumns:
        - name: Phase
          type: string
          jsonPath: .status.phase
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
      schema:
        openAPIV3Schema:
          description: "Widget is the Schema for the widgets API. It is a synthetic resource used to pad the stream with a realistic, large CRD document."
          type: object
          properties:
            apiVersion:
              type: string
            kind:
              type: string
            metadata:
              type: object
            spec:
              description: WidgetSpec defines the desired state of a Widget.
              type: object
              properties:
"""
    tail = """\
            status:
              type: object
              properties:
                phase:
                  type: string
                  enum: ["Pending", "Running", "Failed"]
                conditions:
                  type: array
                  items:
                    type: object
                    required: ["type", "status"]
                    properties:
                      type:
                        type: string
                      status:
                        type: string
                      message:
                        type: string
"""
    parts = [head]
    size = len(head) + len(tail)
    k = 0
    while size < target_bytes:
        t = CRD_TYPES[k % len(CRD_TYPES)]
        extra = ""
        if t == "integer":
            extra = ("                      format: int32\n"
                     "                      minimum: 0\n")
        elif t == "string" and k % 4 == 0:
            extra = "                      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'\n"
        p = (
            f"                field{k:03d}:\n"
            f"                  description: >-\n"
            f"                    Field{k:03d} configures aspect number {k} of the widget.\n"
            f"                    When unset, the operator default is used.\n"
            f"                  type: object\n"
            f"                  properties:\n"
            f"                    value:\n"
            f"                      type: {t}\n" + extra +
            f"                    source:\n"
            f"                      type: string\n"
            f"                      enum: [\"default\", \"user\", \"env\"]\n"
        )
        parts.append(p)
        size += len(p)
        k += 1
    parts.append(tail)
    return "".join(parts)


# --------------------------------------------------------------------------
# app unit


def config_json(i, json_bytes):
    """Single-line JSON object of roughly json_bytes characters (before
    YAML escaping)."""
    items = [
        f'"name":"app-{i}"',
        f'"version":"{APP_VERSION}"',
        '"logLevel":"info"',
        '"listen":":8080"',
        f'"database":{{"host":"db","port":5432,"name":"app_{i}","pool":{{"min":2,"max":{10 + i % 7}}}}}',
    ]
    size = sum(len(x) + 1 for x in items) + 2
    k = 0
    while size < json_bytes:
        x = f'"feature{k:02d}":{{"enabled":{"true" if (i + k) % 3 else "false"},"weight":{(i * 31 + k * 7) % 100}}}'
        items.append(x)
        size += len(x) + 1
        k += 1
    return "{" + ",".join(items) + "}"


def yaml_dq(s):
    """Double-quoted YAML scalar, as Helm's `quote` produces."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def app_yaml_lines(i):
    # 30 lines of a nested YAML document, emitted as a literal block.
    return [
        "server:",
        "  listen: 0.0.0.0:8080",
        "  readTimeout: 30s",
        "  writeTimeout: 30s",
        "database:",
        "  host: db",
        "  port: 5432",
        f"  name: app_{i}",
        "  sslmode: require",
        "cache:",
        "  enabled: true",
        "  ttl: 5m",
        "logging:",
        "  level: info",
        "  format: json",
        "features:",
        "  - search",
        "  - export",
        "  - audit",
        "limits:",
        f"  maxItems: {1000 + i}",
        "  burst: 20",
        "metrics:",
        "  enabled: true",
        "  path: /metrics",
        "tracing:",
        "  enabled: false",
        "  ratio: 0.1",
        "# comment inside the block",
        "tls:",
        "  enabled: no",
    ]


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unit(i, chart, release, mark, json_bytes, lean=False):
    name = f"app-{i}"
    std_labels = (
        f"    helm.sh/chart: {chart}-{CHART_VERSION}\n"
        f"    app.kubernetes.io/name: {name}\n"
        f"    app.kubernetes.io/instance: {release}\n"
        f'    app.kubernetes.io/version: "{APP_VERSION}"\n'
        f"    app.kubernetes.io/managed-by: Helm\n"
    )
    cj = config_json(i, json_bytes)
    app_yaml = "".join("    " + ln + "\n" for ln in app_yaml_lines(i))
    cm = header(chart, "configmap.yaml") + (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        f"  name: {name}-config\n"
        "  labels:\n" + std_labels + "data:\n"
        f"  config.json: {yaml_dq(cj)}\n"
        "  app.yaml: |\n" + app_yaml
    )
    checksum = hashlib.sha256(cm.encode()).hexdigest()
    sec = header(chart, "secret.yaml") + (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {name}-secret\n"
        "  labels:\n" + std_labels + "type: Opaque\n"
        "data:\n"
        f"  db-password: {b64('pw-%08d-%s' % (i * 7919, checksum[:12]))}\n"
        f"  api-key: {b64('key-' + checksum[12:44])}\n"
    )
    sa = header(chart, "serviceaccount.yaml") + (
        "apiVersion: v1\n"
        "kind: ServiceAccount\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  labels:\n" + std_labels
    )
    svc = header(chart, "service.yaml") + (
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  labels:\n" + std_labels + "spec:\n"
        "  type: ClusterIP\n"
        "  ports:\n"
        "    - port: 80\n"
        "      targetPort: http\n"
        "      protocol: TCP\n"
        "      name: http\n"
        "  selector:\n"
        f"    app.kubernetes.io/name: {name}\n"
        f"    app.kubernetes.io/instance: {release}\n"
    )
    marked = mark == "all" or (mark == "one" and i == 0)
    mark_line = f"        {MARK_ANNOTATION}: {MARK_CONTAINER}\n" if marked else ""
    image = f"registry.example.com/{chart}/app:{APP_VERSION}"
    dep = header(chart, "deployment.yaml") + (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  labels:\n" + std_labels + "spec:\n"
        "  replicas: 2\n"
        "  selector:\n"
        "    matchLabels:\n"
        f"      app.kubernetes.io/name: {name}\n"
        f"      app.kubernetes.io/instance: {release}\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations:\n"
        f"        checksum/config: {checksum}\n" + mark_line + "      labels:\n"
        f"        app.kubernetes.io/name: {name}\n"
        f"        app.kubernetes.io/instance: {release}\n"
        f'        app.kubernetes.io/version: "{APP_VERSION}"\n'
        "    spec:\n"
        + ("" if lean else f"      serviceAccountName: {name}\n")
        + "      initContainers:\n"
        "        - name: wait-for-db\n"
        '          image: "busybox:1.36"\n'
        "          command: ['sh', '-c', 'until nc -z db 5432; do sleep 1; done']\n"
        f"        - name: {MARK_CONTAINER}\n"
        f'          image: "{image}"\n'
        '          command: ["/app/bin/migrate","up"]\n'
        + ("" if lean else
           "          env:\n"
           "            - name: DB_PASSWORD\n"
           "              valueFrom:\n"
           "                secretKeyRef:\n"
           f"                  name: {name}-secret\n"
           "                  key: db-password\n")
        + "          envFrom:\n"
        "            - configMapRef:\n"
        f"                name: {name}-config\n"
        "          volumeMounts:\n"
        "            - name: config\n"
        "              mountPath: /etc/app\n"
        "      containers:\n"
        "        - name: app\n"
        f'          image: "{image}"\n'
        "          ports:\n"
        "            - name: http\n"
        "              containerPort: 8080\n"
        "          livenessProbe:\n"
        "            httpGet:\n"
        "              path: /healthz\n"
        "              port: http\n"
        "          readinessProbe:\n"
        "            httpGet:\n"
        "              path: /ready\n"
        "              port: http\n"
        "          resources:\n"
        "            limits:\n"
        "              memory: 256Mi\n"
        "            requests:\n"
        "              cpu: 100m\n"
        "              memory: 128Mi\n"
        "          env:\n"
        "            - name: FEATURE_ENABLED\n"
        '              value: "yes"\n'
        "            - name: UMASK\n"
        '              value: "0755"\n'
        "          volumeMounts:\n"
        "            - name: config\n"
        "              mountPath: /etc/app\n"
        "            - name: tmp\n"
        "              mountPath: /tmp\n"
        "      volumes:\n"
        "        - name: config\n"
        "          configMap:\n"
        f"            name: {name}-config\n"
        "            defaultMode: 0644\n"
        "        - name: tmp\n"
        "          emptyDir: {}\n"
    )
    if lean:
        return cm + dep
    out = cm + sec + sa + svc + dep
    if i % 50 == 0:
        out += header(chart, "pdb.yaml") + (
            "apiVersion: policy/v1\n"
            "kind: PodDisruptionBudget\n"
            "metadata:\n"
            f"  name: {name}\n"
            "  labels:\n" + std_labels + "spec:\n"
            "  minAvailable: 1\n"
            "  selector:\n"
            "    matchLabels:\n"
            f"      app.kubernetes.io/name: {name}\n"
            f"      app.kubernetes.io/instance: {release}\n"
        )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target-mb", type=float, default=10.0,
                    help="approximate output size in MiB (default 10)")
    ap.add_argument("--mark", choices=["none", "one", "all"], default="none",
                    help="which Deployments carry the %s annotation "
                         "(default none)" % MARK_ANNOTATION)
    ap.add_argument("--chart", default="synth", help="chart name (default synth)")
    ap.add_argument("--release", default="synth",
                    help="release / app.kubernetes.io/instance (default synth)")
    ap.add_argument("--shape", choices=["full", "lean"], default="full",
                    help="full: ConfigMap, Secret, ServiceAccount, Service, "
                         "Deployment (+ PDB) per unit; lean: ConfigMap and "
                         "Deployment (default full)")
    ap.add_argument("--json-bytes", type=int, default=None,
                    help="approximate length of the config.json value (default 660, "
                         "lean 1900; 2000 gives ~1,540 full units per 10 MiB)")
    args = ap.parse_args(argv)
    lean = args.shape == "lean"
    if args.json_bytes is None:
        args.json_bytes = 1900 if lean else 660

    target = int(args.target_mb * MIB)
    out = sys.stdout.buffer
    chunks = []
    total = 0

    for doc in (network_policy(args.chart, args.release),
                cluster_role(args.chart, args.release),
                crd(args.chart, args.release)):
        b = doc.encode()
        chunks.append(b)
        total += len(b)

    units = 0
    # The stopping rule counts the annotation lines as if absent, so that
    # --mark none|one|all give the same set of documents (same unit count).
    mark_len = len(f"        {MARK_ANNOTATION}: {MARK_CONTAINER}\n")
    marked_bytes = 0
    # Always at least one unit (so --mark one has something to mark).
    while units == 0 or total - marked_bytes < target:
        b = unit(units, args.chart, args.release, args.mark, args.json_bytes,
                 lean).encode()
        chunks.append(b)
        total += len(b)
        if args.mark == "all" or (args.mark == "one" and units == 0):
            marked_bytes += mark_len
        units += 1
        if len(chunks) >= 256:
            out.write(b"".join(chunks))
            chunks.clear()
    out.write(b"".join(chunks))
    out.flush()

    pdbs = 0 if lean else (units + 49) // 50
    docs = 3 + units * (2 if lean else 5) + pdbs
    print(f"gen_stream: shape={args.shape} units={units} deployments={units} "
          f"pdbs={pdbs} documents={docs} bytes={total} ({total / MIB:.2f} MiB) "
          f"mark={args.mark}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
