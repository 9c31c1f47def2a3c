{{/*
fullstack.name: the chart name, or nameOverride, as used in the
app.kubernetes.io/name label.
Context: the root context (.).
Truncation: 63 characters (label value limit), trailing "-" removed.
*/}}
{{- define "fullstack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
fullstack.fullname: the prefix of every object name, "<release>-<name>" (or the
release name alone when it already contains the name), or fullnameOverride.
Context: the root context (.).
Truncation: 63 characters; components shorten it further so that their suffix
fits (see fullstack.componentName).
*/}}
{{- define "fullstack.fullname" -}}
{{- if .Values.fullnameOverride -}}
  {{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
  {{- $name := default .Chart.Name .Values.nameOverride -}}
  {{- if contains $name .Release.Name -}}
    {{- .Release.Name | trunc 63 | trimSuffix "-" -}}
  {{- else -}}
    {{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.componentName: "<fullname>-<suffix>", with fullname cut first so
that the whole name fits in max characters.
Context: dict with "root" (root context), "suffix" (string) and optional "max"
(integer, default 63; 52 for CronJobs and StatefulSets, whose controllers append
11 more characters to names or labels).
Truncation: fullname is cut to max - len(suffix) - 1 and a trailing "-" removed;
distinct suffixes keep the names of different components distinct.
*/}}
{{- define "fullstack.componentName" -}}
{{- $max := int (default 63 .max) -}}
{{- $keep := int (sub $max (add1 (len .suffix))) -}}
{{- $base := include "fullstack.fullname" .root | trunc $keep | trimSuffix "-" -}}
{{- printf "%s-%s" $base .suffix -}}
{{- end -}}

{{/*
fullstack.chart: "<chart>-<version>" for the helm.sh/chart label.
Context: the root context (.).
Truncation: 63 characters, "+" replaced because it is not allowed in labels.
*/}}
{{- define "fullstack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
fullstack.namespace: namespace of every namespaced object.
Context: the root context (.).
*/}}
{{- define "fullstack.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/*
fullstack.frontend.fullname: name of the frontend objects.
Context: the root context (.). Truncation: see fullstack.componentName.
*/}}
{{- define "fullstack.frontend.fullname" -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" "frontend") -}}
{{- end -}}

{{/*
fullstack.backend.fullname: name of the backend objects.
Context: the root context (.). Truncation: see fullstack.componentName.
*/}}
{{- define "fullstack.backend.fullname" -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" "backend") -}}
{{- end -}}

{{/*
fullstack.postgresql.fullname: name of the StatefulSet, its client Service and
its Secret.
Context: the root context (.).
Truncation: 52 characters in total, because the StatefulSet controller puts
"<name>-<10-character hash>" into the controller-revision-hash label (63 max).
*/}}
{{- define "fullstack.postgresql.fullname" -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" "postgresql" "max" 52) -}}
{{- end -}}

{{/*
fullstack.postgresql.headlessName: the headless Service, equal to the
StatefulSet's spec.serviceName.
Context: the root context (.). Truncation: at most 52 + 3 characters.
*/}}
{{- define "fullstack.postgresql.headlessName" -}}
{{- printf "%s-hl" (include "fullstack.postgresql.fullname" .) -}}
{{- end -}}

{{/*
fullstack.postgresql.initdbName: the ConfigMap of the init scripts.
Context: the root context (.). Truncation: at most 52 + 7 characters.
*/}}
{{- define "fullstack.postgresql.initdbName" -}}
{{- printf "%s-initdb" (include "fullstack.postgresql.fullname" .) -}}
{{- end -}}

{{/*
fullstack.backup.fullname: name of the backup CronJob and of its claim.
Context: the root context (.).
Truncation: 52 characters in total; the CronJob controller appends an
11-character suffix to the names of the Jobs it creates.
*/}}
{{- define "fullstack.backup.fullname" -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" "backup" "max" 52) -}}
{{- end -}}

{{/*
fullstack.backup.claimName: the claim the dumps are written to.
Context: the root context (.).
*/}}
{{- define "fullstack.backup.claimName" -}}
{{- default (include "fullstack.backup.fullname" .) .Values.backup.persistence.existingClaim -}}
{{- end -}}

{{/*
fullstack.restore.fullname: name of the restore Job.
Context: the root context (.). Truncation: see fullstack.componentName.
*/}}
{{- define "fullstack.restore.fullname" -}}
{{- include "fullstack.componentName" (dict "root" . "suffix" "restore") -}}
{{- end -}}

{{/*
fullstack.tests.fullname: name of one helm test pod.
Context: dict with "root" (root context) and "check" (frontend, backend, database).
Truncation: see fullstack.componentName.
*/}}
{{- define "fullstack.tests.fullname" -}}
{{- include "fullstack.componentName" (dict "root" .root "suffix" (printf "test-%s" .check)) -}}
{{- end -}}

{{/*
fullstack.labelValue: a string made safe for a label value (at most 63
characters of [A-Za-z0-9._-], starting and ending with a letter or digit).
Context: the string.
*/}}
{{- define "fullstack.labelValue" -}}
{{- $value := regexReplaceAll "[^A-Za-z0-9._-]" (toString .) "_" | trunc 63 -}}
{{- $value = regexReplaceAll "^[^A-Za-z0-9]+" $value "" -}}
{{- regexReplaceAll "[^A-Za-z0-9]+$" $value "" -}}
{{- end -}}

{{/*
fullstack.selectorLabels: the stable labels that select a component's pods.
Only name, instance and component: nothing that changes with the chart
version, the image tag or commonLabels, because selectors and
volumeClaimTemplates are immutable.
Context: dict with "root" (root context) and "component" (string).
*/}}
{{- define "fullstack.selectorLabels" -}}
{{- toYaml (dict
  "app.kubernetes.io/name" (include "fullstack.name" .root)
  "app.kubernetes.io/instance" .root.Release.Name
  "app.kubernetes.io/component" .component
) -}}
{{- end -}}

{{/*
fullstack.version: the app.kubernetes.io/version of a component: the tag of
the image it runs; objects that run no image of their own (ingress, httproute)
carry the chart's appVersion.
Context: dict with "root" (root context) and "component" (string).
*/}}
{{- define "fullstack.version" -}}
{{- $root := .root -}}
{{- $image := dict -}}
{{- if eq .component "frontend" -}}
  {{- $image = $root.Values.frontend.image -}}
{{- else if eq .component "backend" -}}
  {{- $image = $root.Values.backend.image -}}
{{- else if eq .component "postgresql" -}}
  {{- $image = $root.Values.postgresql.image -}}
{{- else if or (eq .component "backup") (eq .component "restore") -}}
  {{- $image = include "fullstack.backup.imageValues" $root | fromJson -}}
{{- else if eq .component "test" -}}
  {{- $image = include "fullstack.tests.imageValues" $root | fromJson -}}
{{- else -}}
  {{- $image = dict "tag" $root.Chart.AppVersion -}}
{{- end -}}
{{- include "fullstack.labelValue" (get $image "tag") -}}
{{- end -}}

{{/*
fullstack.labels: the full label set of an object of a component: selector
labels, version, chart, part-of, managed-by, then commonLabels (which cannot
replace the chart's own keys).
Context: dict with "root" (root context) and "component" (string).
*/}}
{{- define "fullstack.labels" -}}
{{- $root := .root -}}
{{- $labels := include "fullstack.selectorLabels" . | fromYaml -}}
{{- $version := include "fullstack.version" . -}}
{{- if $version -}}
  {{- $_ := set $labels "app.kubernetes.io/version" $version -}}
{{- end -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" (include "fullstack.name" $root) -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" $root.Release.Service -}}
{{- $_ := set $labels "helm.sh/chart" (include "fullstack.chart" $root) -}}
{{- $labels = merge $labels (include "fullstack.commonLabels" $root | fromYaml) -}}
{{- toYaml $labels -}}
{{- end -}}

{{/*
fullstack.podLabels: labels of a pod template: selector labels, version,
managed-by, commonLabels and the component's podLabels. helm.sh/chart is left
out so that a chart release that changes nothing in a pod does not roll it.
Context: dict with "root" (root context), "component" (string) and
"podLabels" (map, may be empty).
*/}}
{{- define "fullstack.podLabels" -}}
{{- $root := .root -}}
{{- $labels := include "fullstack.selectorLabels" . | fromYaml -}}
{{- $version := include "fullstack.version" . -}}
{{- if $version -}}
  {{- $_ := set $labels "app.kubernetes.io/version" $version -}}
{{- end -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" (include "fullstack.name" $root) -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" $root.Release.Service -}}
{{- $labels = merge $labels (include "fullstack.commonLabels" $root | fromYaml) -}}
{{- range $key, $value := .podLabels -}}
  {{- if not (hasKey $labels $key) -}}
    {{- $_ := set $labels $key (toString $value) -}}
  {{- end -}}
{{- end -}}
{{- toYaml $labels -}}
{{- end -}}

{{/*
fullstack.commonLabels: commonLabels as a map of strings.
Context: the root context (.).
*/}}
{{- define "fullstack.commonLabels" -}}
{{- $labels := dict -}}
{{- range $key, $value := .Values.commonLabels -}}
  {{- $_ := set $labels $key (toString $value) -}}
{{- end -}}
{{- toYaml $labels -}}
{{- end -}}

{{/*
fullstack.metadata: name, namespace, labels and annotations of a namespaced
object.
Context: dict with "root" (root context), "name" (string), "component"
(string), optional "annotations" (map, merged over commonAnnotations) and
optional "labels" (map, extra labels that cannot replace the chart's).
Output: the lines under "metadata:", to be used with nindent 2.
*/}}
{{- define "fullstack.metadata" -}}
{{- $root := .root -}}
name: {{ .name | quote }}
namespace: {{ include "fullstack.namespace" $root | quote }}
{{- $labels := include "fullstack.labels" . | fromYaml }}
{{- range $key, $value := .labels }}
  {{- if not (hasKey $labels $key) }}
    {{- $_ := set $labels $key (toString $value) }}
  {{- end }}
{{- end }}
labels:
  {{- toYaml $labels | nindent 2 }}
{{- $annotations := dict }}
{{- range $key, $value := $root.Values.commonAnnotations }}
  {{- $_ := set $annotations $key (include "fullstack.stringify" $value) }}
{{- end }}
{{- range $key, $value := .annotations }}
  {{- $_ := set $annotations $key (include "fullstack.stringify" $value) }}
{{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
fullstack.stringify: a value as a string for env values, ConfigMap data and
command arguments. Whole numbers are printed as integers (1048576, never
1.048576e+06), other values with toString; null becomes "".
Context: the value.
*/}}
{{- define "fullstack.stringify" -}}
{{- if kindIs "invalid" . -}}
{{- else if kindIs "float64" . -}}
  {{- if and (eq . (floor .)) (lt . 9.0e15) (gt . -9.0e15) -}}
    {{- printf "%d" (int64 .) -}}
  {{- else -}}
    {{- toString . -}}
  {{- end -}}
{{- else -}}
  {{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.image: the reference "<registry>/<repository>:<tag>[@<digest>]" of
an image; global.imageRegistry replaces the registry.
Context: dict with "root" (root context) and "image" (map with registry,
repository, tag, digest).
*/}}
{{- define "fullstack.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $ref := .image.repository -}}
{{- if $registry -}}
  {{- $ref = printf "%s/%s" $registry $ref -}}
{{- end -}}
{{- $ref = printf "%s:%s" $ref (toString .image.tag) -}}
{{- with .image.digest -}}
  {{- $ref = printf "%s@%s" $ref . -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/*
fullstack.inheritImage: an image map whose empty fields come from a base image
(the PostgreSQL image for backup, restore and tests). The base digest is only
inherited together with the base tag.
Context: dict with "image" (map) and "base" (map).
Output: JSON of the merged map (read back with fromJson).
*/}}
{{- define "fullstack.inheritImage" -}}
{{- $image := .image -}}
{{- $base := .base -}}
{{- $digest := $image.digest -}}
{{- if and (not $image.tag) (not $digest) -}}
  {{- $digest = $base.digest -}}
{{- end -}}
{{- $merged := dict
  "registry" (default $base.registry $image.registry)
  "repository" (default $base.repository $image.repository)
  "tag" (toString (default $base.tag $image.tag))
  "digest" $digest
  "pullPolicy" (default $base.pullPolicy $image.pullPolicy)
-}}
{{- toJson $merged -}}
{{- end -}}

{{/*
fullstack.backup.imageValues: backup.image with its empty fields taken from
postgresql.image (pg_dump then matches the server exactly).
Context: the root context (.). Output: JSON map.
*/}}
{{- define "fullstack.backup.imageValues" -}}
{{- $images := dict "image" .Values.backup.image "base" .Values.postgresql.image -}}
{{- include "fullstack.inheritImage" $images -}}
{{- end -}}

{{/*
fullstack.tests.imageValues: tests.image with its empty fields taken from
postgresql.image.
Context: the root context (.). Output: JSON map.
*/}}
{{- define "fullstack.tests.imageValues" -}}
{{- $images := dict "image" .Values.tests.image "base" .Values.postgresql.image -}}
{{- include "fullstack.inheritImage" $images -}}
{{- end -}}

{{/*
fullstack.majorOf: the leading number of an image tag ("18.6" -> "18",
"17-bookworm" -> "17"), or "" when the tag does not start with a number.
Context: the tag.
*/}}
{{- define "fullstack.majorOf" -}}
{{- regexFind "^[0-9]+" (toString .) -}}
{{- end -}}

{{/*
fullstack.postgresql.major: the PostgreSQL major version the chart runs:
postgresql.majorVersion, else the leading number of postgresql.image.tag.
Context: the root context (.). Output: a string, "" when unknown.
*/}}
{{- define "fullstack.postgresql.major" -}}
{{- if .Values.postgresql.majorVersion -}}
  {{- include "fullstack.stringify" .Values.postgresql.majorVersion -}}
{{- else -}}
  {{- include "fullstack.majorOf" .Values.postgresql.image.tag -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.serviceAccountName: the ServiceAccount of a component's pods.
Context: dict with "root" (root context) and "component" (frontend or backend).
*/}}
{{- define "fullstack.serviceAccountName" -}}
{{- $sa := (get .root.Values .component).serviceAccount -}}
{{- if $sa.create -}}
  {{- $name := include "fullstack.componentName" (dict "root" .root "suffix" .component) -}}
  {{- default $name $sa.name -}}
{{- else -}}
  {{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.postgresql.secretName: the Secret holding the bundled database's
passwords: postgresql.auth.existingSecret or the chart's own.
Context: the root context (.).
*/}}
{{- define "fullstack.postgresql.secretName" -}}
{{- default (include "fullstack.postgresql.fullname" .) .Values.postgresql.auth.existingSecret -}}
{{- end -}}

{{/*
fullstack.postgresql.separateAdmin: "true" when the application role is not
the superuser (postgresql.auth.username is not "postgres"), so the chart
creates the role at first start and needs the superuser password too.
Context: the root context (.).
*/}}
{{- define "fullstack.postgresql.separateAdmin" -}}
{{- if ne .Values.postgresql.auth.username "postgres" -}}true{{- end -}}
{{- end -}}

{{/*
fullstack.database: the one source of connection settings for every client
(backend, backup, restore, tests, NetworkPolicy, NOTES), for the bundled or
the external database.
Context: the root context (.).
Output: JSON map with host, port (integer), database, username, sslmode,
secretName and secretKey.
*/}}
{{- define "fullstack.database" -}}
{{- if .Values.postgresql.enabled -}}
  {{- $auth := .Values.postgresql.auth -}}
  {{- toJson (dict
    "host" (include "fullstack.postgresql.fullname" .)
    "port" (int .Values.postgresql.service.port)
    "database" $auth.database
    "username" $auth.username
    "sslmode" "prefer"
    "secretName" (include "fullstack.postgresql.secretName" .)
    "secretKey" $auth.secretKeys.userPasswordKey
  ) -}}
{{- else -}}
  {{- $ext := .Values.externalDatabase -}}
  {{- toJson (dict
    "host" $ext.host
    "port" (int $ext.port)
    "database" $ext.database
    "username" $ext.username
    "sslmode" $ext.sslmode
    "secretName" $ext.existingSecret
    "secretKey" $ext.existingSecretPasswordKey
  ) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.database.env: the libpq variables of a database client. The
password only ever comes from a secretKeyRef, and no URL is built, so every
password works as it is.
Context: the root context (.).
Output: EnvVar list items, to be used with nindent under "env:".
*/}}
{{- define "fullstack.database.env" -}}
{{- $db := include "fullstack.database" . | fromJson -}}
- name: PGHOST
  value: {{ $db.host | quote }}
- name: PGPORT
  value: {{ include "fullstack.stringify" $db.port | quote }}
- name: PGDATABASE
  value: {{ $db.database | quote }}
- name: PGUSER
  value: {{ $db.username | quote }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secretName | quote }}
      key: {{ $db.secretKey | quote }}
- name: PGSSLMODE
  value: {{ $db.sslmode | quote }}
{{- end -}}

{{/*
fullstack.frontend.backendUrl: where the frontend proxies /api/ to:
frontend.backendUrl, else the backend Service by its short name (resolved in
the release namespace, whatever the cluster domain).
Context: the root context (.).
*/}}
{{- define "fullstack.frontend.backendUrl" -}}
{{- if .Values.frontend.backendUrl -}}
  {{- .Values.frontend.backendUrl | trimSuffix "/" -}}
{{- else -}}
  {{- $service := include "fullstack.backend.fullname" . -}}
  {{- printf "http://%s:%d" $service (int .Values.backend.service.port) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.backend.configData: the data of the backend ConfigMap: LOG_LEVEL,
APP_TITLE and backend.config, every value a quoted string (whole numbers
without exponent). The checksum/config annotation of the backend pods hashes
exactly this text, so only a change here rolls them.
Context: the root context (.).
Output: YAML map lines, to be used with nindent under "data:".
*/}}
{{- define "fullstack.backend.configData" -}}
{{- $data := dict -}}
{{- range $key, $value := .Values.backend.config -}}
  {{- $_ := set $data $key (include "fullstack.stringify" $value) -}}
{{- end -}}
{{- $_ := set $data "LOG_LEVEL" (toString .Values.backend.logLevel) -}}
{{- $_ := set $data "APP_TITLE" (toString .Values.backend.appTitle) -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
fullstack.postgresql.passwordData: the base64 value of one password key of the
chart's Secret: the value from values when given, else the value of the live
Secret (so an upgrade keeps the password the database was created with), else
32 new random characters. Offline renders (helm template, client dry runs,
GitOps renderers) see no live Secret and generate a new value each time.
Context: dict with "value" (password from values) and "live" (the base64 value
read from the live Secret, or "").
*/}}
{{- define "fullstack.postgresql.passwordData" -}}
{{- if .value -}}
  {{- toString .value | b64enc -}}
{{- else if and (kindIs "string" .live) .live -}}
  {{- .live -}}
{{- else -}}
  {{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.postgresql.liveSecretData: the data map of the chart's Secret as it
exists in the cluster, or an empty map when there is no cluster (lookup
returns an empty map offline) or no such Secret. Never fails.
Context: the root context (.). Output: JSON map.
*/}}
{{- define "fullstack.postgresql.liveSecretData" -}}
{{- $namespace := include "fullstack.namespace" . -}}
{{- $name := include "fullstack.postgresql.fullname" . -}}
{{- $live := lookup "v1" "Secret" $namespace $name | default dict -}}
{{- $data := get $live "data" | default dict -}}
{{- if kindIs "map" $data -}}
  {{- toJson $data -}}
{{- else -}}
  {{- toJson dict -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.postgresql.liveStatefulSet: the bundled database's StatefulSet as it
exists in the cluster, or an empty map (offline, or first install).
Context: the root context (.). Output: JSON map.
*/}}
{{- define "fullstack.postgresql.liveStatefulSet" -}}
{{- $namespace := include "fullstack.namespace" . -}}
{{- $name := include "fullstack.postgresql.fullname" . -}}
{{- $live := lookup "apps/v1" "StatefulSet" $namespace $name | default dict -}}
{{- toJson $live -}}
{{- end -}}

{{/*
fullstack.postgresql.majorAnnotation: the annotation of the StatefulSet that
records the PostgreSQL major version it runs, read back on upgrades.
Context: none.
*/}}
{{- define "fullstack.postgresql.majorAnnotation" -}}
fullstack-chart.github.io/postgresql-major
{{- end -}}

{{/*
fullstack.postgresql.volumeClaimTemplate: the volumeClaimTemplate of the data
volume, or nothing when persistence is off or an existing claim is used. Its
labels are the stable selector labels only: the whole list is immutable.
Context: the root context (.).
*/}}
{{- define "fullstack.postgresql.volumeClaimTemplate" -}}
{{- $persistence := .Values.postgresql.persistence -}}
{{- if and $persistence.enabled (not $persistence.existingClaim) -}}
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata:
    name: data
    labels:
      {{- include "fullstack.selectorLabels" (dict "root" . "component" "postgresql") | nindent 6 }}
    {{- with $persistence.annotations }}
    annotations:
      {{- range $key, $value := . }}
      {{ $key | quote }}: {{ include "fullstack.stringify" $value | quote }}
      {{- end }}
    {{- end }}
  spec:
    accessModes:
      {{- toYaml $persistence.accessModes | nindent 6 }}
    {{- with include "fullstack.storageClass" $persistence.storageClass }}
    {{- . | nindent 4 }}
    {{- end }}
    resources:
      requests:
        storage: {{ include "fullstack.stringify" $persistence.size | quote }}
{{- end -}}
{{- end -}}

{{/*
fullstack.storageClass: the storageClassName line of a claim: nothing for ""
(cluster default), storageClassName: "" for "-" (no dynamic provisioning),
else the class.
Context: the storageClass value.
*/}}
{{- define "fullstack.storageClass" -}}
{{- if eq (toString .) "-" -}}
storageClassName: ""
{{- else if . -}}
storageClassName: {{ . | quote }}
{{- end -}}
{{- end -}}

{{/*
fullstack.backup.script: the dump script of the backup Jobs. It runs with
errexit, nounset and pipefail; it waits for the database only when
BACKUP_WAIT_SECONDS is set (the install run); pg_dump writes to a hidden
temporary name that is validated with pg_restore --list and only then renamed,
the trap removes the temporary file on any failure, and retention only runs
after a good dump (unless BACKUP_PRUNE=0) and never deletes the newest dump.
Only names of the exact shape PREFIX-YYYYMMDDTHHMMSSZ.dump are this release's
dumps, so another release whose name starts with this one's (on a shared
claim) keeps its files; a temporary file is removed only once it is older than
the Job deadline (BACKUP_STALE_MINUTES), when no running Job can own it.
Context: none (settings come from the container env).
*/}}
{{- define "fullstack.backup.script" -}}
set -euo pipefail
umask 0077
dir="${BACKUP_DIR:-/backups}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
final="${dir}/${BACKUP_PREFIX}-${stamp}.dump"
partial="${dir}/.${BACKUP_PREFIX}-${stamp}.dump.partial"
shape='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'
dumps="${BACKUP_PREFIX}-${shape}.dump"
trap 'rm -f -- "$partial"' EXIT
# A run killed with SIGKILL (deadline, node loss) cannot run its trap; one
# still running (the install run beside a scheduled one) is younger than that.
find "$dir" -maxdepth 1 -type f -name ".${dumps}.partial" \
  -mmin "+${BACKUP_STALE_MINUTES}" -print -delete
if [ "${BACKUP_WAIT_SECONDS:-0}" -gt 0 ]; then
  deadline=$(( $(date +%s) + BACKUP_WAIT_SECONDS ))
  until pg_isready --quiet; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "backup: ${PGHOST}:${PGPORT} did not accept connections within ${BACKUP_WAIT_SECONDS}s" >&2
      exit 1
    fi
    echo "backup: waiting for ${PGHOST}:${PGPORT}"
    sleep 5
  done
fi
echo "backup: pg_dump -Fc of database ${PGDATABASE} on ${PGHOST}:${PGPORT} as ${PGUSER}"
pg_dump --format=custom --no-password --file="$partial" "$@"
echo "backup: checking the dump with pg_restore --list"
pg_restore --list "$partial" > /dev/null
size="$(stat -c %s "$partial")"
sync "$partial"
mv -- "$partial" "$final"
echo "backup: wrote $(basename "$final") (${size} bytes)"
if [ "${BACKUP_PRUNE:-1}" != 1 ]; then
  echo "backup: retention skipped for this run"
  exit 0
fi
now="$(date +%s)"
index=0
while IFS= read -r name; do
  index=$((index + 1))
  if [ "$index" -eq 1 ]; then
    continue
  fi
  if [ "$BACKUP_KEEP_LAST" -gt 0 ] && [ "$index" -le "$BACKUP_KEEP_LAST" ]; then
    continue
  fi
  if [ "$BACKUP_MAX_AGE_DAYS" -gt 0 ]; then
    age_days=$(( (now - $(stat -c %Y "${dir}/${name}")) / 86400 ))
    if [ "$age_days" -lt "$BACKUP_MAX_AGE_DAYS" ]; then
      continue
    fi
  fi
  echo "backup: retention removes ${name}"
  rm -f -- "${dir}/${name}"
done < <(find "$dir" -maxdepth 1 -type f -name "$dumps" -printf '%f\n' | LC_ALL=C sort -r)
echo "backup: dumps kept:"
find "$dir" -maxdepth 1 -type f -name "$dumps" -printf '  %f %s bytes\n' | LC_ALL=C sort -r
{{- end -}}

{{/*
fullstack.restore.script: the restore Job's script. It checks that the dump
exists and is readable, waits (bounded) for the database, then restores with
pg_restore --clean --if-exists in a single transaction.
Context: none (settings come from the container env).
*/}}
{{- define "fullstack.restore.script" -}}
set -euo pipefail
dir="${BACKUP_DIR:-/backups}"
file="${dir}/${RESTORE_FILE}"
if [ ! -f "$file" ]; then
  echo "restore: ${RESTORE_FILE} is not in the backup volume. Dumps there:" >&2
  find "$dir" -maxdepth 1 -type f -name '*.dump' -printf '  %f\n' | LC_ALL=C sort -r >&2
  exit 1
fi
echo "restore: checking ${RESTORE_FILE} with pg_restore --list"
pg_restore --list "$file" > /dev/null
deadline=$(( $(date +%s) + RESTORE_WAIT_SECONDS ))
until pg_isready --quiet; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restore: ${PGHOST}:${PGPORT} did not accept connections within ${RESTORE_WAIT_SECONDS}s" >&2
    exit 1
  fi
  echo "restore: waiting for ${PGHOST}:${PGPORT}"
  sleep 5
done
echo "restore: restoring ${RESTORE_FILE} into database ${PGDATABASE} as ${PGUSER}"
pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
  --no-password --dbname="$PGDATABASE" "$@" "$file"
echo "restore: done"
{{- end -}}

{{/*
fullstack.tests.pod: a helm test Pod: pinned image (tests.image, by default the
PostgreSQL image, which has bash and psql), restricted security context,
restartPolicy Never, a deadline, and a delete policy that removes the pod of
an earlier run before a new one is created and keeps a failed one for its logs.
Context: dict with "root" (root context), "check" (frontend, backend or
database), "env" (EnvVar list items as YAML) and "script" (bash script).
*/}}
{{- define "fullstack.tests.pod" -}}
{{- $root := .root -}}
{{- $tests := $root.Values.tests -}}
{{- $image := include "fullstack.tests.imageValues" $root | fromJson -}}
{{- $ctx := dict "root" $root "component" "test" -}}
{{- $hook := dict
  "helm.sh/hook" "test"
  "helm.sh/hook-delete-policy" "before-hook-creation,hook-succeeded"
}}
apiVersion: v1
kind: Pod
metadata:
  {{- $name := include "fullstack.tests.fullname" . }}
  {{- include "fullstack.metadata" (merge (dict "name" $name "annotations" $hook) $ctx) | nindent 2 }}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: {{ int64 $tests.activeDeadlineSeconds }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with include "fullstack.pod.imagePullSecrets" $root | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with $tests.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ printf "test-%s" .check | quote }}
      image: {{ include "fullstack.image" (dict "root" $root "image" $image) | quote }}
      imagePullPolicy: {{ $image.pullPolicy | quote }}
      command:
        - /bin/bash
        - -c
        - |
          {{- .script | nindent 10 }}
      env:
        - name: HOME
          value: /tmp
        - name: TEST_ATTEMPTS
          value: {{ include "fullstack.stringify" (int $tests.attempts) | quote }}
        - name: TEST_INTERVAL_SECONDS
          value: {{ include "fullstack.stringify" (int $tests.intervalSeconds) | quote }}
        {{- .env | nindent 8 }}
        {{- with include "fullstack.container.extraEnv" $tests.extraEnv | trim }}
        {{- . | nindent 8 }}
        {{- end }}
      {{- with $tests.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $tests.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with $tests.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- with $tests.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
fullstack.tests.httpScript: bash script of the HTTP test pods. Requests go
through bash's /dev/tcp (the PostgreSQL image has no curl or wget), each under
a 10-second timeout, with TEST_ATTEMPTS bounded retries; every attempt and the
result are printed.
Context: dict with "checks" (list of dicts with "what" and "path"); the
target comes from TEST_HOST and TEST_PORT.
*/}}
{{- define "fullstack.tests.httpScript" -}}
set -uo pipefail
fetch() {
  exec 3<>"/dev/tcp/$1/$2" || return 1
  local request='GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fullstack-helm-test\r\n'
  printf "${request}Connection: close\r\n\r\n" "$3" "$1" >&3
  local line=""
  IFS= read -r line <&3 || return 1
  printf '%s\n' "${line%$'\r'}"
}
export -f fetch
check() {
  local what=$1 path=$2 status="" attempt
  local url="http://${TEST_HOST}:${TEST_PORT}${path}"
  for attempt in $(seq 1 "$TEST_ATTEMPTS"); do
    status="$(timeout 10 bash -c 'fetch "$@"' fetch "$TEST_HOST" "$TEST_PORT" "$path" \
      2>/dev/null)" || status=""
    if [[ "$status" =~ ^HTTP/[0-9.]+\ 200 ]]; then
      echo "PASS ${what}: GET ${url} answered '${status}' (attempt ${attempt}/${TEST_ATTEMPTS})"
      return 0
    fi
    echo "wait ${what}: GET ${url} answered '${status:-nothing}' (attempt ${attempt}/${TEST_ATTEMPTS})"
    sleep "$TEST_INTERVAL_SECONDS"
  done
  echo "FAIL ${what}: GET ${url} never answered 200; last answer '${status:-nothing}'"
  return 1
}
failed=0
{{- range .checks }}
check {{ .what | quote }} {{ .path | quote }} || failed=1
{{- end }}
exit "$failed"
{{- end -}}

{{/*
fullstack.networkPolicy.dnsEgress: the egress rule that every NetworkPolicy
of the chart carries: UDP and TCP port 53 to the cluster DNS pods.
Context: the root context (.).
*/}}
{{- define "fullstack.networkPolicy.dnsEgress" -}}
{{- $dns := .Values.networkPolicy.dns -}}
- to:
    - namespaceSelector:
        {{- toYaml $dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml $dns.podSelector | nindent 8 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}

{{/*
fullstack.networkPolicy.databaseEgress: the egress rule to the database: the
bundled PostgreSQL pod, or the external host's CIDRs (any address when
externalDatabase.cidrs is empty) on its port.
Context: the root context (.).
*/}}
{{- define "fullstack.networkPolicy.databaseEgress" -}}
{{- if .Values.postgresql.enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- $database := dict "root" . "component" "postgresql" }}
          {{- include "fullstack.selectorLabels" $database | nindent 10 }}
  ports:
    - protocol: TCP
      port: {{ int .Values.postgresql.containerPort }}
{{- else -}}
- ports:
    - protocol: TCP
      port: {{ int .Values.externalDatabase.port }}
  {{- with .Values.externalDatabase.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/*
fullstack.networkPolicy.fromPods: a NetworkPolicyPeer list item selecting the
pods of one component of this release.
Context: dict with "root" (root context) and "component" (string).
*/}}
{{- define "fullstack.networkPolicy.fromPods" -}}
- podSelector:
    matchLabels:
      {{- include "fullstack.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/*
fullstack.networkPolicy.fromIngressController: a NetworkPolicyPeer list item
for the ingress controller (or Gateway) pods.
Context: the root context (.).
*/}}
{{- define "fullstack.networkPolicy.fromIngressController" -}}
{{- $controller := .Values.networkPolicy.ingressController -}}
- namespaceSelector:
    {{- toYaml $controller.namespaceSelector | nindent 4 }}
  {{- with $controller.podSelector }}
  podSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
