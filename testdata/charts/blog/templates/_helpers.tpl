{{- define "blog.labels" -}}
app.kubernetes.io/name: blog
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "blog.selectorLabels" -}}
app.kubernetes.io/name: blog
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
