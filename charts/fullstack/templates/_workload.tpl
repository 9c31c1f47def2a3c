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
