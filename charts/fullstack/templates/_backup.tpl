{{/*
fullstack.backup.jobSpec: the Job spec shared by the backup CronJob and the
install-time dump Job: pg_dump from the backup image into the backup claim,
with the connection from fullstack.database.env (the same helper the backend
uses). The pod never mounts the database's data volume.
Context: dict with "root" (root context), "waitSeconds" (integer, 0 for the
scheduled runs) and "prune" (bool, apply retention).
*/}}
{{- define "fullstack.backup.jobSpec" -}}
{{- $root := .root -}}
{{- $values := $root.Values.backup -}}
{{- $ctx := dict "root" $root "component" "backup" -}}
{{- $image := include "fullstack.backup.imageValues" $root | fromJson -}}
backoffLimit: {{ int $values.backoffLimit }}
activeDeadlineSeconds: {{ int64 $values.activeDeadlineSeconds }}
template:
  metadata:
    labels:
      {{- include "fullstack.podLabels" (merge (dict "podLabels" $values.podLabels) $ctx)
        | nindent 6 }}
    {{- $podAnnotations := dict "podAnnotations" $values.podAnnotations }}
    {{- with include "fullstack.pod.annotations" $podAnnotations | trim }}
    {{- . | nindent 4 }}
    {{- end }}
  spec:
    restartPolicy: Never
    automountServiceAccountToken: false
    enableServiceLinks: false
    {{- with include "fullstack.pod.imagePullSecrets" $root | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $values.podSecurityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with include "fullstack.pod.scheduling" (merge (dict "values" $values) $ctx) | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    terminationGracePeriodSeconds: {{ int $values.terminationGracePeriodSeconds }}
    {{- if or $values.volumePermissions.enabled $values.extraInitContainers }}
    initContainers:
      {{- if $values.volumePermissions.enabled }}
      {{- $volumePermissions := dict
        "root" $root "image" $image "values" $values "volume" "backups" "mountPath" "/backups"
      }}
      {{- include "fullstack.pod.volumePermissions" $volumePermissions | nindent 6 }}
      {{- end }}
      {{- with $values.extraInitContainers }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
    containers:
      - name: backup
        image: {{ include "fullstack.image" (dict "root" $root "image" $image) | quote }}
        imagePullPolicy: {{ $image.pullPolicy | quote }}
        command:
          - /bin/bash
          - -c
          - |
            {{- include "fullstack.backup.script" $root | nindent 12 }}
          - fullstack-backup
        {{- with $values.extraArgs }}
        args:
          {{- range . }}
          - {{ include "fullstack.stringify" . | quote }}
          {{- end }}
        {{- end }}
        env:
          {{- include "fullstack.database.env" $root | nindent 10 }}
          - name: BACKUP_PREFIX
            value: {{ include "fullstack.fullname" $root | quote }}
          - name: BACKUP_KEEP_LAST
            value: {{ include "fullstack.stringify" (int $values.retention.keepLast) | quote }}
          - name: BACKUP_MAX_AGE_DAYS
            value: {{ include "fullstack.stringify" (int $values.retention.maxAgeDays) | quote }}
          - name: BACKUP_STALE_MINUTES
            value: {{ include "fullstack.stringify" (div (add (int64 $values.activeDeadlineSeconds) 59) 60) | quote }}
          - name: BACKUP_PRUNE
            value: {{ ternary "1" "0" .prune | quote }}
          {{- if .waitSeconds }}
          - name: BACKUP_WAIT_SECONDS
            value: {{ include "fullstack.stringify" (int .waitSeconds) | quote }}
          {{- end }}
          {{- with include "fullstack.container.extraEnv" $values.extraEnv | trim }}
          {{- . | nindent 10 }}
          {{- end }}
        {{- with $values.extraEnvFrom }}
        envFrom:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- with $values.resources }}
        resources:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- with $values.securityContext }}
        securityContext:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- with $values.lifecycle }}
        lifecycle:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        volumeMounts:
          - name: backups
            mountPath: /backups
          - name: tmp
            mountPath: /tmp
          {{- with $values.extraVolumeMounts }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
    volumes:
      - name: backups
        persistentVolumeClaim:
          claimName: {{ include "fullstack.backup.claimName" $root | quote }}
      - name: tmp
        emptyDir: {}
      {{- with $values.extraVolumes }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end -}}

{{/*
fullstack.backup.initialJobName: name of the install-time dump Job:
"<fullname>-backup-<hash>", where the hash covers the Job spec, so a changed
spec (immutable in a Job) gets a new Job instead of a failed upgrade.
Context: the root context (.).
Truncation: see fullstack.componentName (suffix of 15 characters).
*/}}
{{- define "fullstack.backup.initialJobName" -}}
{{- $hash := include "fullstack.backup.initialJobSpec" . | sha256sum | trunc 8 -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" (printf "backup-%s" $hash)) -}}
{{- end -}}

{{/*
fullstack.backup.initialJobSpec: the spec of the install-time dump Job: it
waits for the database and never applies retention.
Context: the root context (.).
*/}}
{{- define "fullstack.backup.initialJobSpec" -}}
{{- $wait := .Values.backup.initialDump.waitForDatabaseSeconds -}}
{{- include "fullstack.backup.jobSpec" (dict "root" . "waitSeconds" $wait "prune" false) -}}
{{- end -}}
