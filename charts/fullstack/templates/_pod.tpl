{{/*
fullstack.pod.imagePullSecrets: the imagePullSecrets block of a pod, from
global.imagePullSecrets given as names or {name: ...} objects. Empty names are
dropped and nothing is rendered when no name is left.
Context: the root context (.).
*/}}
{{- define "fullstack.pod.imagePullSecrets" -}}
{{- $names := list -}}
{{- range .Values.global.imagePullSecrets -}}
  {{- $name := "" -}}
  {{- if kindIs "string" . -}}
    {{- $name = . -}}
  {{- else if kindIs "map" . -}}
    {{- $name = toString (default "" .name) -}}
  {{- end -}}
  {{- if $name -}}
    {{- $names = append $names $name -}}
  {{- end -}}
{{- end -}}
{{- with ($names | uniq) }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/*
fullstack.pod.annotations: the annotations block of a pod template: the
component's podAnnotations (values as strings) plus chart annotations such as
config checksums, which win over podAnnotations.
Context: dict with "podAnnotations" (map) and "annotations" (map).
*/}}
{{- define "fullstack.pod.annotations" -}}
{{- $annotations := dict -}}
{{- range $key, $value := .podAnnotations -}}
  {{- $_ := set $annotations $key (include "fullstack.stringify" $value) -}}
{{- end -}}
{{- range $key, $value := .annotations -}}
  {{- $_ := set $annotations $key (toString $value) -}}
{{- end -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{/*
fullstack.pod.scheduling: priorityClassName, nodeSelector, tolerations,
affinity and topologySpreadConstraints of a pod; each only when set. A
topology spread constraint without labelSelector gets the component's
selector labels.
Context: dict with "root" (root context), "component" (string) and "values"
(the component's values).
*/}}
{{- define "fullstack.pod.scheduling" -}}
{{- $values := .values -}}
{{- with $values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $values.topologySpreadConstraints }}
  {{- $ctx := dict "root" .root "component" .component -}}
  {{- $selector := include "fullstack.selectorLabels" $ctx | fromYaml -}}
  {{- $constraints := list -}}
  {{- range $values.topologySpreadConstraints -}}
    {{- $constraint := deepCopy . -}}
    {{- if not (hasKey $constraint "labelSelector") -}}
      {{- $_ := set $constraint "labelSelector" (dict "matchLabels" $selector) -}}
    {{- end -}}
    {{- $constraints = append $constraints $constraint -}}
  {{- end }}
topologySpreadConstraints:
  {{- toYaml $constraints | nindent 2 }}
{{- end -}}
{{- end -}}

{{/*
fullstack.container.extraEnv: EnvVar list items from a component's extraEnv.
Every plain value is written as a quoted string (true -> "true",
1048576 -> "1048576"); valueFrom entries are passed through.
Context: the extraEnv list.
*/}}
{{- define "fullstack.container.extraEnv" -}}
{{- range . }}
- name: {{ .name | quote }}
  {{- if .valueFrom }}
  valueFrom:
    {{- toYaml .valueFrom | nindent 4 }}
  {{- else }}
  value: {{ include "fullstack.stringify" .value | quote }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/*
fullstack.container.probes: startupProbe, livenessProbe and readinessProbe of
a container. Each enabled probe is either its "custom" map as given, or the
chart's handler with the timings from values.
Context: dict with "probes" (the component's probes values) and "handlers"
(map from startup/liveness/readiness to a probe handler map).
*/}}
{{- define "fullstack.container.probes" -}}
{{- range $kind := list "startup" "liveness" "readiness" }}
  {{- $probe := get $.probes $kind }}
  {{- if $probe.enabled }}
{{ $kind }}Probe:
    {{- if $probe.custom }}
  {{- toYaml $probe.custom | nindent 2 }}
    {{- else }}
  {{- toYaml (get $.handlers $kind) | nindent 2 }}
  initialDelaySeconds: {{ int $probe.initialDelaySeconds }}
  periodSeconds: {{ int $probe.periodSeconds }}
  timeoutSeconds: {{ int $probe.timeoutSeconds }}
  failureThreshold: {{ int $probe.failureThreshold }}
  successThreshold: {{ int $probe.successThreshold }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
fullstack.intOrString: an int-or-string field: whole numbers as integers,
strings (e.g. "25%") quoted.
Context: the value.
*/}}
{{- define "fullstack.intOrString" -}}
{{- if kindIs "string" . -}}
  {{- . | quote -}}
{{- else -}}
  {{- include "fullstack.stringify" . -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.deployment.strategy: the strategy block of a Deployment.
rollingUpdate is only rendered for type RollingUpdate.
Context: the component's updateStrategy values.
*/}}
{{- define "fullstack.deployment.strategy" -}}
type: {{ .type | quote }}
{{- if eq .type "RollingUpdate" }}
{{- with .rollingUpdate }}
rollingUpdate:
  {{- if hasKey . "maxSurge" }}
  maxSurge: {{ include "fullstack.intOrString" .maxSurge }}
  {{- end }}
  {{- if hasKey . "maxUnavailable" }}
  maxUnavailable: {{ include "fullstack.intOrString" .maxUnavailable }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
fullstack.pod.volumePermissions: an init container that runs as root and gives
a volume to the pod's user, for storage that ignores fsGroup (some local or
hostPath provisioners). Only files not yet owned by the user are changed.
Context: dict with "root" (root context), "image" (map), "values" (the
component's values, for its security contexts and volumePermissions),
"volume" (volume name) and "mountPath".
*/}}
{{- define "fullstack.pod.volumePermissions" -}}
{{- $pod := .values.podSecurityContext -}}
{{- $container := .values.securityContext -}}
{{- $uid := int (default $pod.runAsUser $container.runAsUser) -}}
{{- $gid := int (default (default $pod.runAsGroup $container.runAsGroup) $pod.fsGroup) -}}
- name: volume-permissions
  image: {{ include "fullstack.image" (dict "root" .root "image" .image) | quote }}
  imagePullPolicy: {{ .image.pullPolicy | quote }}
  command:
    - /bin/sh
    - -ec
    - |
      echo "volume-permissions: giving {{ .mountPath }} to {{ $uid }}:{{ $gid }}"
      find {{ .mountPath | quote }} -xdev \( ! -user {{ $uid }} -o ! -group {{ $gid }} \) \
        -exec chown {{ $uid }}:{{ $gid }} {} +
      chmod u+rwx {{ .mountPath | quote }}
  securityContext:
    runAsUser: 0
    runAsGroup: 0
    runAsNonRoot: false
    privileged: false
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop:
        - ALL
      add:
        - CHOWN
        - DAC_OVERRIDE
        - FOWNER
    seccompProfile:
      type: RuntimeDefault
  {{- with .values.volumePermissions.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: {{ .volume | quote }}
      mountPath: {{ .mountPath | quote }}
{{- end -}}

{{/*
fullstack.service.spec: the spec of a component's client Service. The
targetPort is always the named container port, so it follows containerPort.
Context: dict with "root" (root context), "component" (string), "service"
(the component's service values) and "portName" (named container port).
*/}}
{{- define "fullstack.service.spec" -}}
{{- $service := .service -}}
type: {{ $service.type | quote }}
{{- if ne $service.type "ClusterIP" }}
{{- with $service.externalTrafficPolicy }}
externalTrafficPolicy: {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq $service.type "LoadBalancer" }}
{{- with $service.loadBalancerSourceRanges }}
loadBalancerSourceRanges:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
ports:
  - name: {{ .portName | quote }}
    port: {{ int $service.port }}
    targetPort: {{ .portName | quote }}
    protocol: TCP
    {{- if and (ne $service.type "ClusterIP") $service.nodePort }}
    nodePort: {{ int $service.nodePort }}
    {{- end }}
selector:
  {{- include "fullstack.selectorLabels" (dict "root" .root "component" .component) | nindent 2 }}
{{- end -}}
