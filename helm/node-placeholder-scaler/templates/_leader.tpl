{{/* The leader-election Lease: its name (the controller's default, in the release namespace). */}}
{{- define "nps.leaseName" -}}
node-placeholder-scaler
{{- end }}
