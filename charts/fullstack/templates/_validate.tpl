{{/*
fullstack.validate: checks the values for problems the schema cannot express
and fails the render once, listing every problem with its value path and what
is allowed. It is called from the first line of NOTES.txt, which Helm renders
on install, upgrade, template and lint. Each fullstack.validate.<rule> helper
prints zero or more one-line messages.
Context: the root context (.).
*/}}
{{- define "fullstack.validate" -}}
{{- $rules := list
  "database"
  "postgresqlImage"
  "postgresqlAuth"
  "postgresqlLive"
  "backupImage"
  "backup"
  "restore"
  "workloads"
  "env"
  "ingress"
  "httpRoute"
  "extraObjects"
-}}
{{- $messages := list -}}
{{- range $rule := $rules -}}
  {{- range $line := splitList "\n" (include (printf "fullstack.validate.%s" $rule) $) -}}
    {{- if trim $line -}}
      {{- $messages = append $messages (trim $line) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- if $messages -}}
  {{- $count := len $messages -}}
  {{- $header := printf "fullstack: %d problems in the values:" $count -}}
  {{- if eq $count 1 -}}
    {{- $header = "fullstack: 1 problem in the values:" -}}
  {{- end -}}
  {{- fail (printf "%s\n- %s" $header (join "\n- " $messages)) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.message: one validation message on its own line, from
parts joined with spaces (so that long messages fit the template width).
Context: list of strings.
*/}}
{{- define "fullstack.validate.message" -}}
{{ printf "\n%s\n" (join " " .) }}
{{- end -}}

{{/*
fullstack.validate.database: the external database settings are complete when
the bundled PostgreSQL is off. The schema requires them too; this rule covers
renders with --skip-schema-validation.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.database" -}}
{{- $external := .Values.externalDatabase -}}
{{- if not .Values.postgresql.enabled -}}
  {{- if not $external.host -}}
    {{- include "fullstack.validate.message" (list
      "externalDatabase.host: required when postgresql.enabled is false (the backend,"
      "backup and tests connect to it); set the host name of your PostgreSQL server,"
      "or set postgresql.enabled=true."
    ) -}}
  {{- end -}}
  {{- if not $external.existingSecret -}}
    {{- include "fullstack.validate.message" (list
      "externalDatabase.existingSecret: required when postgresql.enabled is false; name a"
      "Secret that holds the password under the key"
      (printf "externalDatabase.existingSecretPasswordKey (%s)."
        ($external.existingSecretPasswordKey | quote))
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.postgresqlImage: the PostgreSQL major version is known
(from the tag or postgresql.majorVersion), because the data directory check
and the backup image check depend on it; the bundled server is 15 or newer,
because its init script reads the password with psql's \getenv (15+) rather
than passing it on a command line.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.postgresqlImage" -}}
{{- $needed := or .Values.postgresql.enabled .Values.backup.enabled .Values.restore.enabled -}}
{{- $major := include "fullstack.postgresql.major" . -}}
{{- if and $needed (not $major) -}}
  {{- include "fullstack.validate.message" (list
    (printf "postgresql.image.tag: %s does not start with the PostgreSQL major version;"
      (.Values.postgresql.image.tag | toString | quote))
    "use a tag such as \"18.6\" or set postgresql.majorVersion (e.g. \"18\")."
  ) -}}
{{- else if and .Values.postgresql.enabled $major (lt (atoi $major) 15) -}}
  {{- include "fullstack.validate.message" (list
    (printf "postgresql.image.tag: PostgreSQL %s is not supported by the bundled server;" $major)
    "use major 15 or newer (the default is 18)."
  ) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.postgresqlAuth: password sources do not conflict and the
two passwords of the chart's Secret get different keys.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.postgresqlAuth" -}}
{{- $auth := .Values.postgresql.auth -}}
{{- if .Values.postgresql.enabled -}}
  {{- range $key := list "password" "adminPassword" -}}
    {{- if and $auth.existingSecret (get $auth $key) -}}
      {{- include "fullstack.validate.message" (list
        (printf "postgresql.auth.%s: cannot be combined with postgresql.auth.existingSecret" $key)
        "(the password is read from the Secret); remove one of them."
      ) -}}
    {{- end -}}
  {{- end -}}
  {{- $keys := $auth.secretKeys -}}
  {{- $separate := include "fullstack.postgresql.separateAdmin" . -}}
  {{- if and (not $separate) $auth.adminPassword -}}
    {{- include "fullstack.validate.message" (list
      "postgresql.auth.adminPassword: not used when postgresql.auth.username is \"postgres\""
      "(the application then connects as the superuser, with postgresql.auth.password);"
      "remove it, or choose another username."
    ) -}}
  {{- end -}}
  {{- if and $separate (eq $keys.userPasswordKey $keys.adminPasswordKey) -}}
    {{- include "fullstack.validate.message" (list
      "postgresql.auth.secretKeys: userPasswordKey and adminPasswordKey are both"
      (printf "%s; the application and superuser passwords need different keys."
        ($keys.userPasswordKey | quote))
    ) -}}
  {{- end -}}
  {{- if hasKey .Values.postgresql.initScripts "fullstack-init.sh" -}}
    {{- include "fullstack.validate.message" (list
      "postgresql.initScripts.fullstack-init.sh: this name is used by the chart's own"
      "init script; rename your script."
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.postgresqlLive: on upgrades (when lookup reaches the
cluster and finds the StatefulSet) the requested PostgreSQL major and volume
claim must equal the live ones, because a new major cannot open the old data
directory and volumeClaimTemplates are immutable. Offline renders find
nothing and skip this rule.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.postgresqlLive" -}}
{{- if .Values.postgresql.enabled -}}
{{- $live := include "fullstack.postgresql.liveStatefulSet" . | fromJson -}}
{{- if $live -}}
  {{- $name := include "fullstack.postgresql.fullname" . -}}
  {{- $namespace := include "fullstack.namespace" . -}}
  {{- $claim := printf "data-%s-0" $name -}}
  {{- $orphan := printf "kubectl delete statefulset %s -n %s --cascade=orphan" $name $namespace -}}

  {{- /* Major version: the annotation, else the tag of the running image. */ -}}
  {{- $annotations := dig "metadata" "annotations" dict $live -}}
  {{- $liveMajor := toString (get $annotations (include "fullstack.postgresql.majorAnnotation" .)) -}}
  {{- if not $liveMajor -}}
    {{- range (dig "spec" "template" "spec" "containers" list $live) -}}
      {{- if and (kindIs "map" .) (eq (toString (get . "name")) "postgresql") -}}
        {{- $tag := splitList ":" (toString (get . "image")) | last -}}
        {{- $liveMajor = include "fullstack.majorOf" $tag -}}
      {{- end -}}
    {{- end -}}
  {{- end -}}
  {{- $major := include "fullstack.postgresql.major" . -}}
  {{- if and $liveMajor $major (ne $liveMajor $major) -}}
    {{- include "fullstack.validate.message" (list
      (printf "postgresql.image.tag: the StatefulSet %s runs PostgreSQL %s and %s is PostgreSQL %s;"
        $name $liveMajor (.Values.postgresql.image.tag | toString | quote) $major)
      "a new major cannot open the old data directory, so nothing was changed."
      (printf "Keep a %s.x tag, or move by dump and restore" $liveMajor)
      "(README \"Upgrading PostgreSQL to a new major version\")."
    ) -}}
  {{- end -}}

  {{- /* Volume claim: compare the live "data" template with the requested one. */ -}}
  {{- $liveClaim := dict -}}
  {{- range (dig "spec" "volumeClaimTemplates" list $live) -}}
    {{- if and (kindIs "map" .) (eq (toString (dig "metadata" "name" "" .)) "data") -}}
      {{- $liveClaim = . -}}
    {{- end -}}
  {{- end -}}
  {{- $persistence := .Values.postgresql.persistence -}}
  {{- $wantClaim := and $persistence.enabled (not $persistence.existingClaim) -}}
  {{- if and $liveClaim (not $wantClaim) -}}
    {{- include "fullstack.validate.message" (list
      (printf "postgresql.persistence: the StatefulSet %s was created with its own volume claim," $name)
      "and Kubernetes cannot remove volumeClaimTemplates; keep persistence.enabled=true"
      (printf "without existingClaim, or delete the StatefulSet first with %s" (quote $orphan))
      "(the claim and its data stay)."
    ) -}}
  {{- else if and (not $liveClaim) $wantClaim -}}
    {{- include "fullstack.validate.message" (list
      (printf "postgresql.persistence: the StatefulSet %s was created without its own volume" $name)
      "claim (persistence off or an existing claim), and Kubernetes cannot add"
      "volumeClaimTemplates; keep the previous persistence values, or delete the StatefulSet"
      (printf "first with %s." (quote $orphan))
    ) -}}
  {{- else if $liveClaim -}}
    {{- $liveSize := toString (dig "spec" "resources" "requests" "storage" "" $liveClaim) -}}
    {{- $size := include "fullstack.stringify" $persistence.size -}}
    {{- if ne (include "fullstack.quantity" $liveSize) (include "fullstack.quantity" $size) -}}
      {{- $patch := printf `'{"spec":{"resources":{"requests":{"storage":"%s"}}}}'` $size -}}
      {{- include "fullstack.validate.message" (list
        (printf "postgresql.persistence.size: the StatefulSet %s was created with %s" $name $liveSize)
        (printf "and Kubernetes cannot change volumeClaimTemplates, so %s cannot be applied" $size)
        (printf "by the chart. Keep %s, or resize by hand (the StorageClass must allow" $liveSize)
        (printf "expansion): 1) kubectl patch pvc %s -n %s -p %s" $claim $namespace $patch)
        (printf "2) %s 3) helm upgrade again with" $orphan)
        (printf "postgresql.persistence.size=%s (README \"Resizing the database volume\")." $size)
      ) -}}
    {{- end -}}
    {{- $liveClass := "(cluster default)" -}}
    {{- if hasKey (get $liveClaim "spec") "storageClassName" -}}
      {{- $liveClass = toString (dig "spec" "storageClassName" "" $liveClaim) | quote -}}
    {{- end -}}
    {{- $class := "(cluster default)" -}}
    {{- if eq (toString $persistence.storageClass) "-" -}}
      {{- $class = quote "" -}}
    {{- else if $persistence.storageClass -}}
      {{- $class = quote $persistence.storageClass -}}
    {{- end -}}
    {{- if ne $liveClass $class -}}
      {{- include "fullstack.validate.message" (list
        (printf "postgresql.persistence.storageClass: the StatefulSet %s was created with" $name)
        (printf "storage class %s and Kubernetes cannot change volumeClaimTemplates," $liveClass)
        (printf "so %s cannot be applied. Keep the old class, or move the data:" $class)
        (printf "take a dump, uninstall, delete the claim %s, install with the new" $claim)
        "class and restore the dump (README \"Restoring\")."
      ) -}}
    {{- end -}}
    {{- $liveModes := dig "spec" "accessModes" list $liveClaim -}}
    {{- if ne (toJson $liveModes) (toJson $persistence.accessModes) -}}
      {{- include "fullstack.validate.message" (list
        (printf "postgresql.persistence.accessModes: the StatefulSet %s was created with %s"
          $name (toJson $liveModes))
        (printf "and Kubernetes cannot change volumeClaimTemplates; keep %s." (toJson $liveModes))
      ) -}}
    {{- end -}}
    {{- $liveAnnotations := dig "metadata" "annotations" dict $liveClaim -}}
    {{- $wantAnnotations := dict -}}
    {{- range $key, $value := $persistence.annotations -}}
      {{- $_ := set $wantAnnotations $key (include "fullstack.stringify" $value) -}}
    {{- end -}}
    {{- if ne (toJson $liveAnnotations) (toJson $wantAnnotations) -}}
      {{- include "fullstack.validate.message" (list
        (printf "postgresql.persistence.annotations: the StatefulSet %s was created with %s"
          $name (toJson $liveAnnotations))
        "and Kubernetes cannot change volumeClaimTemplates; keep them, and annotate the claim"
        (printf "%s with kubectl instead." $claim)
      ) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.quantity: a Kubernetes quantity ("8Gi", "1.5G", "500M") as a number
of bytes, so that "1Gi" and "1024Mi" compare equal; the input unchanged when it
is not a plain quantity.
Context: the quantity string.
*/}}
{{- define "fullstack.quantity" -}}
{{- $quantity := trim (toString .) -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $quantity -}}
{{- $suffix := trimPrefix $number $quantity -}}
{{- $factors := dict
  "" 1.0 "m" 0.001
  "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0
  "P" 1000000000000000.0 "E" 1000000000000000000.0
  "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0
  "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0
-}}
{{- if and $number (hasKey $factors $suffix) -}}
  {{- printf "%.3f" (mulf (float64 $number) (get $factors $suffix)) -}}
{{- else -}}
  {{- $quantity -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.backupImage: pg_dump refuses to dump a server of a newer
major version, so an overridden backup image tag must not be older than the
bundled server. An inherited tag is the server's own image and always fits.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.backupImage" -}}
{{- $used := or .Values.backup.enabled .Values.restore.enabled -}}
{{- if and $used .Values.postgresql.enabled .Values.backup.image.tag -}}
  {{- $image := include "fullstack.backup.imageValues" . | fromJson -}}
  {{- $backupMajor := include "fullstack.majorOf" $image.tag -}}
  {{- $serverMajor := include "fullstack.postgresql.major" . -}}
  {{- if not $backupMajor -}}
    {{- include "fullstack.validate.message" (list
      (printf "backup.image.tag: %s does not start with the PostgreSQL major version," (quote $image.tag))
      "so it cannot be checked against the server; use a tag such as"
      (printf "\"%s.6\", or leave backup.image.tag empty to use postgresql.image."
        (default "18" $serverMajor))
    ) -}}
  {{- else if and $serverMajor (lt (atoi $backupMajor) (atoi $serverMajor)) -}}
    {{- include "fullstack.validate.message" (list
      (printf "backup.image.tag: pg_dump %s (%s) is older than the PostgreSQL %s server"
        $backupMajor (quote $image.tag) $serverMajor)
      (printf "and cannot dump it; use a tag with major %s or higher, or leave" $serverMajor)
      "backup.image.tag empty to use postgresql.image."
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.backup: the retention keeps something.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.backup" -}}
{{- $retention := .Values.backup.retention -}}
{{- if and .Values.backup.enabled (not $retention.keepLast) (not $retention.maxAgeDays) -}}
  {{- include "fullstack.validate.message" (list
    "backup.retention: keepLast and maxAgeDays are both 0, so no rule says which dumps to"
    "keep; set keepLast (e.g. 7) and/or maxAgeDays (e.g. 30)."
  ) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.restore: the restore Job knows which dump to restore and has
a volume to read it from.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.restore" -}}
{{- if .Values.restore.enabled -}}
  {{- if not .Values.restore.dumpFile -}}
    {{- include "fullstack.validate.message" (list
      "restore.dumpFile: required when restore.enabled is true; give the file name of a"
      "dump in the backup volume (the backup Job's log lists them)."
    ) -}}
  {{- end -}}
  {{- if not (or .Values.backup.enabled .Values.backup.persistence.existingClaim) -}}
    {{- include "fullstack.validate.message" (list
      "restore.enabled: the restore reads the backup volume; set backup.enabled=true or"
      "backup.persistence.existingClaim."
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.workloads: autoscaling, disruption budget and Service
settings of the frontend and the backend (and the Service of PostgreSQL).
Context: the root context (.).
*/}}
{{- define "fullstack.validate.workloads" -}}
{{- range $component := list "frontend" "backend" -}}
  {{- $values := get $.Values $component -}}
  {{- $hpa := $values.autoscaling -}}
  {{- $cpu := $hpa.targetCPUUtilizationPercentage -}}
  {{- $memory := $hpa.targetMemoryUtilizationPercentage -}}
  {{- if and $values.enabled $hpa.enabled -}}
    {{- if and (not $cpu) (not $memory) -}}
      {{- include "fullstack.validate.message" (list
        (printf "%s.autoscaling: targetCPUUtilizationPercentage and" $component)
        "targetMemoryUtilizationPercentage are both 0; set at least one of them."
      ) -}}
    {{- end -}}
    {{- if gt (int $hpa.minReplicas) (int $hpa.maxReplicas) -}}
      {{- include "fullstack.validate.message" (list
        (printf "%s.autoscaling.minReplicas: %d is more than maxReplicas %d;"
          $component (int $hpa.minReplicas) (int $hpa.maxReplicas))
        "minReplicas must be at most maxReplicas."
      ) -}}
    {{- end -}}
    {{- range $resource := list "cpu" "memory" -}}
      {{- $target := ternary $cpu $memory (eq $resource "cpu") -}}
      {{- if and $target (not (dig "requests" $resource "" $values.resources)) -}}
        {{- include "fullstack.validate.message" (list
          (printf "%s.autoscaling.target%sUtilizationPercentage: needs %s.resources.requests.%s,"
            $component (ternary "CPU" "Memory" (eq $resource "cpu")) $component $resource)
          "because utilisation is measured against the request; set a"
          (printf "%s request or set the target to 0." $resource | replace "cpu" "CPU")
        ) -}}
      {{- end -}}
    {{- end -}}
  {{- end -}}
  {{- $pdb := $values.podDisruptionBudget -}}
  {{- if and $values.enabled $pdb.enabled -}}
    {{- $min := ne (toString $pdb.minAvailable) "" -}}
    {{- $max := ne (toString $pdb.maxUnavailable) "" -}}
    {{- if and $min $max -}}
      {{- include "fullstack.validate.message" (list
        (printf "%s.podDisruptionBudget: minAvailable and maxUnavailable are both set;" $component)
        "set exactly one of them and the other to \"\"."
      ) -}}
    {{- else if not (or $min $max) -}}
      {{- include "fullstack.validate.message" (list
        (printf "%s.podDisruptionBudget: neither minAvailable nor maxUnavailable is set;" $component)
        "set exactly one of them."
      ) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- $frontend := .Values.frontend -}}
{{- if and $frontend.enabled (not $frontend.backendUrl) (not .Values.backend.enabled) -}}
  {{- include "fullstack.validate.message" (list
    "frontend.backendUrl: required when frontend.enabled is true and backend.enabled is"
    "false; set the URL the frontend proxies /api/ to."
  ) -}}
{{- end -}}
{{- range $component := list "frontend" "backend" "postgresql" -}}
  {{- $values := get $.Values $component -}}
  {{- $service := $values.service -}}
  {{- if and $values.enabled (eq $service.type "ClusterIP") $service.nodePort -}}
    {{- include "fullstack.validate.message" (list
      (printf "%s.service.nodePort: %d needs %s.service.type NodePort or LoadBalancer"
        $component (int $service.nodePort) $component)
      "(it is ClusterIP); change the type or set nodePort to 0."
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.env: user settings must not silently replace variables the
chart sets (the database connection, LOG_LEVEL, APP_TITLE, BACKEND_URL).
Context: the root context (.).
*/}}
{{- define "fullstack.validate.env" -}}
{{- $database := list "PGHOST" "PGPORT" "PGDATABASE" "PGUSER" "PGPASSWORD" "PGSSLMODE" -}}
{{- $fromDatabase := "is set by the chart from postgresql.auth or externalDatabase" -}}
{{- if .Values.backend.enabled -}}
  {{- range $key := keys .Values.backend.config | sortAlpha -}}
    {{- if eq $key "LOG_LEVEL" -}}
      {{- include "fullstack.validate.message" (list
        "backend.config.LOG_LEVEL: set by the chart; use backend.logLevel instead."
      ) -}}
    {{- else if eq $key "APP_TITLE" -}}
      {{- include "fullstack.validate.message" (list
        "backend.config.APP_TITLE: set by the chart; use backend.appTitle instead."
      ) -}}
    {{- else if has $key $database -}}
      {{- include "fullstack.validate.message" (list
        (printf "backend.config.%s: set by the chart from postgresql.auth or" $key)
        "externalDatabase and cannot be replaced."
      ) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- /* Every client of the database gets the same PG* settings from the chart. */}}
{{- range $component := list "backend" "backup" "tests" -}}
  {{- range $index, $env := (get $.Values $component).extraEnv -}}
    {{- if has (toString $env.name) $database -}}
      {{- include "fullstack.validate.message" (list
        (printf "%s.extraEnv[%d].name: %s %s" $component $index $env.name $fromDatabase)
        "and cannot be replaced."
      ) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- if .Values.frontend.enabled -}}
  {{- range $index, $env := .Values.frontend.extraEnv -}}
    {{- if eq (toString $env.name) "BACKEND_URL" -}}
      {{- include "fullstack.validate.message" (list
        (printf "frontend.extraEnv[%d].name: BACKEND_URL is set by the chart;" $index)
        "use frontend.backendUrl instead."
      ) -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.ingress: the Ingress uses spec.ingressClassName only, has
paths its pathType allows (the rule ingress-nginx enforces), and routes only to
enabled components.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.ingress" -}}
{{- $ingress := .Values.ingress -}}
{{- if $ingress.enabled -}}
  {{- $deprecated := "kubernetes.io/ingress.class" -}}
  {{- if hasKey $ingress.annotations $deprecated -}}
    {{- if $ingress.className -}}
      {{- include "fullstack.validate.message" (list
        "ingress.annotations.kubernetes.io/ingress.class: cannot be combined with"
        "ingress.className (Kubernetes rejects an Ingress with both); remove the annotation"
        "and keep ingress.className."
      ) -}}
    {{- else -}}
      {{- include "fullstack.validate.message" (list
        "ingress.annotations.kubernetes.io/ingress.class: this annotation is deprecated and"
        "ignored by current controllers; remove it and set ingress.className:"
        (printf "%s instead." (toString (get $ingress.annotations $deprecated) | quote))
      ) -}}
    {{- end -}}
  {{- end -}}
  {{- range $hostIndex, $host := $ingress.hosts -}}
    {{- range $pathIndex, $path := $host.paths -}}
      {{- $where := printf "ingress.hosts[%d].paths[%d]" $hostIndex $pathIndex -}}
      {{- $strict := has $path.pathType (list "Prefix" "Exact") -}}
      {{- if and $strict (not (regexMatch "^/[A-Za-z0-9/_-]*$" (toString $path.path))) -}}
        {{- include "fullstack.validate.message" (list
          (printf "%s.path: %s has characters other than letters, digits," $where (quote $path.path))
          (printf "\"/\", \"_\" and \"-\", which pathType %s does not allow" $path.pathType)
          "(ingress-nginx rejects them); use pathType ImplementationSpecific for regular"
          "expressions, or a plain path."
        ) -}}
      {{- end -}}
      {{- $target := list $ (printf "%s.service" $where) $path.service -}}
      {{- include "fullstack.validate.routedService" $target -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.routedService: a route's target is an enabled component.
The schema allows only frontend and backend; this also holds when it is
skipped (--skip-schema-validation), where any other name would otherwise end
in a template error.
Context: (list root valuePath service).
*/}}
{{- define "fullstack.validate.routedService" -}}
{{- $root := index . 0 -}}
{{- $where := index . 1 -}}
{{- $service := index . 2 -}}
{{- if not (has $service (list "frontend" "backend")) -}}
  {{- include "fullstack.validate.message" (list
    (printf "%s: %s is not a component; allowed: \"frontend\", \"backend\"."
      $where (quote (toString $service)))
  ) -}}
{{- else if not (get $root.Values $service).enabled -}}
  {{- include "fullstack.validate.message" (list
    (printf "%s: %s is disabled (%s.enabled=false);" $where (quote $service) $service)
    "route only to enabled components."
  ) -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.httpRoute: the HTTPRoute has a Gateway to attach to and
routes only to enabled components.
Context: the root context (.).
*/}}
{{- define "fullstack.validate.httpRoute" -}}
{{- $route := .Values.httpRoute -}}
{{- if $route.enabled -}}
  {{- if not $route.parentRefs -}}
    {{- include "fullstack.validate.message" (list
      "httpRoute.parentRefs: required when httpRoute.enabled is true; name the Gateway to"
      "attach to, e.g. [{name: my-gateway, namespace: gateway-system}]."
    ) -}}
  {{- end -}}
  {{- range $index, $path := $route.paths -}}
    {{- $target := list $ (printf "httpRoute.paths[%d].service" $index) $path.service -}}
    {{- include "fullstack.validate.routedService" $target -}}
  {{- end -}}
{{- end -}}
{{- end -}}

{{/*
fullstack.validate.extraObjects: every extra object is a Kubernetes object
(apiVersion and kind), given as a map or as a YAML string (after tpl).
Context: the root context (.).
*/}}
{{- define "fullstack.validate.extraObjects" -}}
{{- range $index, $object := .Values.extraObjects -}}
  {{- $rendered := $object -}}
  {{- if kindIs "string" $object -}}
    {{- $rendered = tpl $object $ | fromYaml -}}
  {{- end -}}
  {{- if not (and (get $rendered "apiVersion") (get $rendered "kind")) -}}
    {{- include "fullstack.validate.message" (list
      (printf "extraObjects[%d]: needs apiVersion and kind; give a Kubernetes object as a map" $index)
      "or as a YAML string."
    ) -}}
  {{- end -}}
{{- end -}}
{{- end -}}
