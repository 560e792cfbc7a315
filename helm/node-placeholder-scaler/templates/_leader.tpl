{{/* The leader-election Lease: one per release (two releases in a namespace do not share it). */}}
{{- define "nps.leaseName" -}}
{{ include "nps.fullname" . }}
{{- end }}
