{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "nps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name + chart name, unless the release name already contains it. */}}
{{- define "nps.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nps.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: name and instance only (immutable, so never the version). */}}
{{- define "nps.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nps.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels of every resource. */}}
{{- define "nps.labels" -}}
helm.sh/chart: {{ include "nps.chart" . }}
{{ include "nps.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: node-placeholder-scaler
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The label that names a placeholder's (or pre-puller's) pool. */}}
{{- define "nps.poolLabel" -}}node-placeholder-scaler/pool{{- end }}

{{/* Controller: selector labels (component keeps it apart from the placeholders). */}}
{{- define "nps.controllerSelectorLabels" -}}
{{ include "nps.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "nps.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nps.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "nps.image" -}}
{{- include "nps.imageRef" (list .Values.image .Chart.AppVersion) }}
{{- end }}

{{/* The placeholders' PriorityClass, refusing a value below the autoscaler's cutoff. */}}
{{- define "nps.priorityClassName" -}}
{{- $pc := .Values.priorityClass }}
{{- if lt (int64 $pc.value) (int64 $pc.expendableCutoff) }}
{{- fail (printf "priorityClass.value %v is below the cluster autoscaler's expendable cutoff %v (priorityClass.expendableCutoff): pending placeholders would never trigger a scale-up. Use a value >= %v." $pc.value $pc.expendableCutoff $pc.expendableCutoff) }}
{{- end }}
{{- if $pc.create }}
{{- default (printf "%s-placeholder" (include "nps.fullname" .)) $pc.name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- required "priorityClass.name is required when priorityClass.create is false" $pc.name }}
{{- end }}
{{- end }}

{{/* The pre-pullers' PriorityClass: between the placeholders and user pods. */}}
{{- define "nps.prePullerPriorityClassName" -}}
{{- $pc := .Values.prePuller.priorityClass }}
{{- if $pc.create }}
{{- if or (le (int64 $pc.value) (int64 .Values.priorityClass.value)) (ge (int64 $pc.value) 0) }}
{{- fail (printf "prePuller.priorityClass.value %v must be above priorityClass.value %v (placeholders) and below 0 (user pods)" $pc.value .Values.priorityClass.value) }}
{{- end }}
{{- default (printf "%s-image-puller" (include "nps.fullname" .)) $pc.name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- required "prePuller.priorityClass.name is required when prePuller.priorityClass.create is false" $pc.name }}
{{- end }}
{{- end }}

{{/*
The name of a pool's placeholder Deployment: its `deployment` value, else placeholder-<pool>
(lower case, as the controller derives it). Call with (list $poolName $pool).
*/}}
{{- define "nps.placeholderName" -}}
{{- $name := index . 0 }}
{{- $pool := index . 1 | default dict }}
{{- if eq (lower $name) "lead" }}
{{- fail "pools.lead: \"lead\" is reserved for the lead time line of event descriptions; name the pool otherwise" }}
{{- end }}
{{- $deployment := default (printf "placeholder-%s" (lower $name)) $pool.deployment }}
{{- if or (gt (len $deployment) 63) (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $deployment)) }}
{{- fail (printf "pools.%s: %q is not a valid Deployment name (a DNS label: lower-case letters, digits and -); set pools.%s.deployment" $name $deployment $name) }}
{{- end }}
{{- $deployment }}
{{- end }}

{{/* Pre-puller DaemonSet name of a pool. Call with (list $ $poolName). */}}
{{- define "nps.prePullerName" -}}
{{- $root := index . 0 }}
{{- printf "%s-image-puller-%s" (include "nps.fullname" $root) (lower (index . 1) | replace "_" "-" | replace "." "-") | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret holding feed URLs given inline. */}}
{{- define "nps.calendarSecretName" -}}
{{- printf "%s-calendars" (include "nps.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The folder where each feed address is mounted as a file. */}}
{{- define "nps.calendarDir" -}}/var/run/node-placeholder-scaler/calendars{{- end }}

{{/* The file of calendar N's address (in nps.calendarDir). Call with (list $ N). */}}
{{- define "nps.calendarFile" -}}
{{- printf "%s/calendar-%d-url" (include "nps.calendarDir" (index . 0)) (int (index . 1)) }}
{{- end }}

{{/* The projected volume's sources: each calendar's Secret key as calendar-<i>-url. */}}
{{- define "nps.calendarSources" -}}
{{- range $i, $c := .Values.calendars }}
- secret:
    {{- if $c.existingSecret }}
    name: {{ required (printf "calendars[%d].existingSecret.name is required" $i) $c.existingSecret.name }}
    items:
      - key: {{ required (printf "calendars[%d].existingSecret.key is required" $i) $c.existingSecret.key }}
        path: calendar-{{ $i }}-url
    {{- else }}
    name: {{ include "nps.calendarSecretName" $ }}
    items:
      - key: calendar-{{ $i }}-url
        path: calendar-{{ $i }}-url
    {{- end }}
{{- end }}
{{- end }}

{{/* Check each calendar has exactly one of url and existingSecret. */}}
{{- define "nps.validateCalendars" -}}
{{- range $i, $c := .Values.calendars }}
{{- if and $c.url $c.existingSecret }}
{{- fail (printf "calendars[%d]: give either url or existingSecret, not both" $i) }}
{{- end }}
{{- if not (or $c.url $c.existingSecret) }}
{{- fail (printf "calendars[%d]: give its feed address as url (stored in a Secret by the chart) or existingSecret {name, key}" $i) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The controller's HTTP port (its metricsPort; the controller's default when unset). */}}
{{- define "nps.metricsPort" -}}
{{- .Values.config.metricsPort | default 8080 }}
{{- end }}

{{/* The keys of a pool that are the chart's own (the placeholder pods'); every other key of a
pool belongs to the controller and is passed through to its config file. */}}
{{- define "nps.chartPoolKeys" -}}
{{- list "resources" "tolerations" "affinity" "schedulerName" "podLabels" "podAnnotations" "prePuller" | toJson }}
{{- end }}

{{/*
The controller's config file (YAML): `config` passed through as it is (the controller validates
it and owns its defaults), plus the release namespace, the calendars (their feed address only by
environment variable, from the Secret) and the controller's keys of each pool.
*/}}
{{- define "nps.config" -}}
{{- include "nps.validateCalendars" . }}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $_ := set $cfg "namespace" .Release.Namespace }}
{{- $election := deepCopy (get $cfg "leaderElection" | default dict) }}
{{- $_ := set $election "leaseName" (include "nps.leaseName" .) }}
{{- $_ := set $cfg "leaderElection" $election }}
{{- $calendars := list }}
{{- range $i, $c := .Values.calendars }}
{{- $entry := omit $c "url" "existingSecret" }}
{{- $_ := set $entry "urlFromFile" (include "nps.calendarFile" (list $ $i)) }}
{{- $calendars = append $calendars $entry }}
{{- end }}
{{- $_ := set $cfg "calendars" $calendars }}
{{- $pools := dict }}
{{- $chartKeys := include "nps.chartPoolKeys" . | fromJsonArray }}
{{- range $name, $p := .Values.pools }}
{{- $p = $p | default dict }}
{{- $entry := dict }}
{{- range $key, $v := $p }}
{{- if not (has $key $chartKeys) }}
{{- $_ := set $entry $key $v }}
{{- end }}
{{- end }}
{{- $_ := set $entry "deployment" (include "nps.placeholderName" (list $name $p)) }}
{{- if eq (include "nps.backend" $p) "capacityBuffer" }}
{{- $_ := set $entry "buffer" (include "nps.bufferName" (list $name $p)) }}
{{- end }}
{{- $_ := set $pools $name $entry }}
{{- end }}
{{- $_ := set $cfg "pools" $pools }}
{{- toYaml $cfg }}
{{- end }}

{{/*
The replicas of the placeholder Deployments belong to the controller; the chart must never
reset them. Returns JSON: {} when rendered offline (`helm template`, as Argo CD does, or a
client-side --dry-run), where lookup sees no cluster; then `replicas` is left out of the
Deployments, so a GitOps sync neither owns nor resets it (a Deployment created so starts at the
Kubernetes default of 1 until the controller's first round). Rendered against a cluster (helm
install/upgrade, Flux's helm-controller): {"connected": true, "<deployment>": <live replicas>},
and each Deployment renders its live replicas, or 0 when it is new, so an upgrade keeps them.
One list of the release namespace's Deployments tells the two apart: against a cluster it is a
List object even when empty.
*/}}
{{- define "nps.liveReplicas" -}}
{{- $found := lookup "apps/v1" "Deployment" .Release.Namespace "" }}
{{- $live := dict }}
{{- if $found }}
{{- $_ := set $live "connected" true }}
{{- range $deployment := $found.items | default list }}
{{- $_ := set $live $deployment.metadata.name (int64 (dig "spec" "replicas" 1 $deployment)) }}
{{- end }}
{{- end }}
{{- toJson $live }}
{{- end }}

{{/*
Refuse to render an object whose CRD the cluster does not serve. Call with
(list $ "group/version/Kind" "the value that asked for it").
*/}}
{{- define "nps.requireApi" -}}
{{- $root := index . 0 }}
{{- $api := index . 1 }}
{{- if and $root.Values.capabilityChecks (not ($root.Capabilities.APIVersions.Has $api)) }}
{{- $crd := get (dict
  "monitoring.coreos.com/v1/ServiceMonitor" "servicemonitors.monitoring.coreos.com (Prometheus Operator: install the prometheus-operator CRDs, e.g. the prometheus-operator-crds chart or kube-prometheus-stack)"
  "monitoring.coreos.com/v1/PrometheusRule" "prometheusrules.monitoring.coreos.com (Prometheus Operator: install the prometheus-operator CRDs, e.g. the prometheus-operator-crds chart or kube-prometheus-stack)"
  "autoscaling.x-k8s.io/v1beta1/CapacityBuffer" "capacitybuffers.autoscaling.x-k8s.io (Cluster Autoscaler with capacity buffers, GKE, or Karpenter >= 1.14 with the CapacityBuffer feature gate; or use backend: placeholders)"
  ) $api }}
{{- fail (printf "%s needs the CRD %s, which this cluster does not serve (%s). Install it first, or turn the value off. Offline (helm template): pass --api-versions %s; helm lint: --set capabilityChecks=false." (index . 2) $crd $api $api) }}
{{- end }}
{{- end }}

{{/* The labels of one alert: its severity, then prometheusRule.additionalLabels. Call with
(list $.Values.prometheusRule $alert). */}}
{{- define "nps.alertLabels" -}}
{{- $r := index . 0 }}
severity: {{ (index . 1).severity | quote }}
{{- with $r.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
An image reference from {registry, repository, tag, digest}: registry/repository@digest, else
registry/repository:tag. Call with (list $image $defaultTag).
*/}}
{{- define "nps.imageRef" -}}
{{- $image := index . 0 }}
{{- $repository := $image.repository }}
{{- with $image.registry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}
{{- end }}
{{- if $image.digest }}
{{- printf "%s@%s" $repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default (index . 1) $image.tag) }}
{{- end }}
{{- end }}

{{/* The pause image of placeholders, pre-pullers and buffer PodTemplates. */}}
{{- define "nps.pauseImage" -}}
{{- include "nps.imageRef" (list .Values.placeholder.image "3.10") }}
{{- end }}

{{/* Controller replicas: one in a dry run (no leader election there). */}}
{{- define "nps.replicas" -}}
{{- if .Values.controller.dryRun }}1{{ else }}{{ .Values.controller.replicaCount }}{{ end }}
{{- end }}

{{/* The default values install nothing that would crash-loop: both keys are needed. */}}
{{- define "nps.validateRequired" -}}
{{- $missing := list }}
{{- if not .Values.calendars }}{{ $missing = append $missing "calendars" }}{{ end }}
{{- if not .Values.pools }}{{ $missing = append $missing "pools" }}{{ end }}
{{- if $missing }}
{{- fail (printf "set %s: the controller needs at least one calendar feed (calendars: [{name, url or existingSecret}]) and one pool (pools: {<name>: {nodeSelector, resources.requests}}); see values.yaml and `node-placeholder-scaler size --pool NAME` for the requests" (join " and " $missing)) }}
{{- end }}
{{- end }}
