{{/*
fullstack.workload.serviceAccount: the ServiceAccount of a component, when
<component>.serviceAccount.create is true.
Context: dict with "root" (root context) and "component" (frontend or backend).
*/}}
{{- define "fullstack.workload.serviceAccount" -}}
{{- $values := get .root.Values .component -}}
{{- if and $values.enabled $values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- $name := include "fullstack.serviceAccountName" . }}
  {{- $annotations := $values.serviceAccount.annotations }}
  {{- include "fullstack.metadata" (merge (dict "name" $name "annotations" $annotations) .) | nindent 2 }}
automountServiceAccountToken: {{ $values.serviceAccount.automountServiceAccountToken }}
{{- end }}
{{- end -}}

{{/*
fullstack.workload.hpa: the HorizontalPodAutoscaler (autoscaling/v2) of a
Deployment, when <component>.autoscaling.enabled is true.
Context: dict with "root" (root context) and "component" (frontend or backend).
*/}}
{{- define "fullstack.workload.hpa" -}}
{{- $values := get .root.Values .component -}}
{{- $autoscaling := $values.autoscaling -}}
{{- if and $values.enabled $autoscaling.enabled }}
{{- $name := include "fullstack.componentName" (dict "root" .root "suffix" .component) }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "fullstack.metadata" (merge (dict "name" $name) .) | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name | quote }}
  minReplicas: {{ int $autoscaling.minReplicas }}
  maxReplicas: {{ int $autoscaling.maxReplicas }}
  metrics:
    {{- if $autoscaling.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int $autoscaling.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- if $autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ int $autoscaling.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with $autoscaling.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
fullstack.workload.pdb: the PodDisruptionBudget of a Deployment, when
<component>.podDisruptionBudget.enabled is true; exactly one of minAvailable
and maxUnavailable is set (checked in fullstack.validate).
Context: dict with "root" (root context) and "component" (frontend or backend).
*/}}
{{- define "fullstack.workload.pdb" -}}
{{- $values := get .root.Values .component -}}
{{- $pdb := $values.podDisruptionBudget -}}
{{- if and $values.enabled $pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- $name := include "fullstack.componentName" (dict "root" .root "suffix" .component) }}
  {{- include "fullstack.metadata" (merge (dict "name" $name) .) | nindent 2 }}
spec:
  {{- if ne (toString $pdb.minAvailable) "" }}
  minAvailable: {{ include "fullstack.intOrString" $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ include "fullstack.intOrString" $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "fullstack.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/*
fullstack.workload.deployment: the Deployment of the frontend or the backend.
Both run one container on port "http" with /healthz for startup and liveness,
a /tmp scratch volume and the component's scheduling, security and extra*
values; what differs is passed in.
Context: dict with "root" (root context), "component" (frontend or backend),
"readinessPath" (HTTP path), "annotations" (dict of pod annotations, e.g.
checksums), "env" (rendered env entries, a YAML list) and "envFrom" (rendered
envFrom entries before the user's extraEnvFrom, a YAML list or "").
*/}}
{{- define "fullstack.workload.deployment" -}}
{{- $root := .root -}}
{{- $values := get $root.Values .component -}}
{{- $ctx := dict "root" $root "component" .component -}}
{{- $handlers := dict
  "startup" (dict "httpGet" (dict "path" "/healthz" "port" "http"))
  "liveness" (dict "httpGet" (dict "path" "/healthz" "port" "http"))
  "readiness" (dict "httpGet" (dict "path" .readinessPath "port" "http"))
-}}
{{- $name := include (printf "fullstack.%s.fullname" .component) $root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "fullstack.metadata" (merge (dict "name" $name) $ctx) | nindent 2 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ int $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      {{- include "fullstack.selectorLabels" $ctx | nindent 6 }}
  strategy:
    {{- include "fullstack.deployment.strategy" $values.updateStrategy | nindent 4 }}
  template:
    metadata:
      labels:
        {{- $podLabels := merge (dict "podLabels" $values.podLabels) $ctx }}
        {{- include "fullstack.podLabels" $podLabels | nindent 8 }}
      {{- $podAnnotations := dict "podAnnotations" $values.podAnnotations "annotations" .annotations }}
      {{- with include "fullstack.pod.annotations" $podAnnotations | trim }}
      {{- . | nindent 6 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "fullstack.serviceAccountName" $ctx | quote }}
      automountServiceAccountToken: {{ $values.serviceAccount.automountServiceAccountToken }}
      enableServiceLinks: false
      {{- with include "fullstack.pod.imagePullSecrets" $root | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- with $values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "fullstack.pod.scheduling" (merge (dict "values" $values) $ctx) | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      terminationGracePeriodSeconds: {{ int $values.terminationGracePeriodSeconds }}
      {{- with $values.extraInitContainers }}
      initContainers:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "fullstack.image" (dict "root" $root "image" $values.image) | quote }}
          imagePullPolicy: {{ $values.image.pullPolicy | quote }}
          ports:
            - name: http
              containerPort: {{ int $values.containerPort }}
              protocol: TCP
          {{- if or .envFrom $values.extraEnvFrom }}
          envFrom:
            {{- with .envFrom }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $values.extraEnvFrom }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- end }}
          env:
            {{- .env | nindent 12 }}
            {{- with include "fullstack.container.extraEnv" $values.extraEnv | trim }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- $probes := dict "probes" $values.probes "handlers" $handlers }}
          {{- with include "fullstack.container.probes" $probes | trim }}
          {{- . | nindent 10 }}
          {{- end }}
          {{- with $values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $values.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $values.lifecycle }}
          lifecycle:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with $values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- with $values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}
