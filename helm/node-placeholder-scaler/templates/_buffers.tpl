{{/*
Backend of a pool: placeholders (pause-pod Deployment, the default) or capacityBuffer (an
upstream CapacityBuffer, autoscaling.x-k8s.io/v1beta1). Call with the pool's values.
*/}}
{{- define "nps.backend" -}}
{{- $p := . | default dict }}
{{- $backend := default "placeholders" $p.backend }}
{{- if not (has $backend (list "placeholders" "capacityBuffer")) }}
{{- fail (printf "backend %q: use placeholders or capacityBuffer" $backend) }}
{{- end }}
{{- $backend }}
{{- end }}

{{/*
The name of a buffer pool's CapacityBuffer and PodTemplate: its `buffer` value, else
buffer-<pool> (lower case, as the controller derives it). Call with (list $poolName $pool).
*/}}
{{- define "nps.bufferName" -}}
{{- $name := index . 0 }}
{{- $pool := index . 1 | default dict }}
{{- $buffer := default (printf "buffer-%s" (lower $name)) $pool.buffer }}
{{- if or (gt (len $buffer) 63) (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $buffer)) }}
{{- fail (printf "pools.%s: %q is not a valid CapacityBuffer name (a DNS label: lower-case letters, digits and -); set pools.%s.buffer" $name $buffer $name) }}
{{- end }}
{{- $buffer }}
{{- end }}

{{/* The names of the CapacityBuffers of all buffer pools (a YAML list, for the Role). */}}
{{- define "nps.bufferNames" -}}
{{- $names := list }}
{{- range $pool, $p := .Values.pools }}
{{- if eq (include "nps.backend" $p) "capacityBuffer" }}
{{- $names = append $names (include "nps.bufferName" (list $pool $p)) }}
{{- end }}
{{- end }}
{{- toYaml $names }}
{{- end }}
