// Command runc-capfilter is an OCI runtime wrapper for hosts whose capability
// bounding set lacks some capabilities (for example CAP_SYS_RESOURCE).
//
// Docker 20.10 asks for every known capability for `docker run --privileged`
// (which kind uses for its nodes), and runc then fails with "unable to apply
// caps: operation not permitted". This wrapper drops the capabilities that the
// bounding set does not hold from the container's OCI spec (config.json of the
// bundle on create/run, the --process file on exec) and then executes the real
// runc with the same arguments. Nothing else in the spec changes.
//
// Registered through /etc/docker/daemon.json ("runtimes" and
// "default-runtime") by airgap/docker.sh, only when the bounding set is short.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames lists capabilities by number, as in linux/capability.h.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

const realRunc = "/usr/sbin/runc"

// missingCaps returns the names of known capabilities absent from the
// bounding set of this process.
func missingCaps() (map[string]bool, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if !strings.HasPrefix(line, "CapBnd:") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(line[len("CapBnd:"):]), 16, 64)
		if err != nil {
			return nil, err
		}
		missing := map[string]bool{}
		for i, name := range capNames {
			if mask&(1<<uint(i)) == 0 {
				missing[name] = true
			}
		}
		return missing, nil
	}
	return nil, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// filterCaps removes the missing capabilities from every capability list of
// an OCI process object.
func filterCaps(process map[string]any, missing map[string]bool) {
	caps, ok := process["capabilities"].(map[string]any)
	if !ok {
		return
	}
	for set, raw := range caps {
		list, ok := raw.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, ok := c.(string); ok && missing[name] {
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
}

// rewrite applies filterCaps to a JSON file in place. When process is true the
// file is an OCI process object, otherwise a full config.json.
func rewrite(path string, missing map[string]bool, process bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	if process {
		filterCaps(doc, missing)
	} else if p, ok := doc["process"].(map[string]any); ok {
		filterCaps(p, missing)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

// flagValue finds "--name value" or "--name=value" (or the short form) in args.
func flagValue(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, n+"=") {
				return a[len(n)+1:]
			}
		}
	}
	return ""
}

// subcommand returns the first argument that is not a global flag or its value.
func subcommand(args []string) string {
	withValue := map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if withValue[a] {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func main() {
	args := os.Args[1:]
	missing, err := missingCaps()
	if err == nil && len(missing) > 0 {
		switch subcommand(args) {
		case "create", "run":
			bundle := flagValue(args, "--bundle", "-b")
			if bundle == "" {
				bundle, _ = os.Getwd()
			}
			err = rewrite(filepath.Join(bundle, "config.json"), missing, false)
		case "exec":
			if p := flagValue(args, "--process", "-p"); p != "" {
				err = rewrite(p, missing, true)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "runc-capfilter: %v\n", err)
		os.Exit(1)
	}
	if err := syscall.Exec(realRunc, append([]string{realRunc}, args...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-capfilter: exec %s: %v\n", realRunc, err)
		os.Exit(1)
	}
}
