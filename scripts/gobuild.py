#!/usr/bin/env python3
"""Build Go commands of a published module through the Go module proxy.

`go install module/cmd@version` refuses modules whose go.mod has replace
directives (helm 3 has none, but Kubernetes, etcd and Traefik do), so this
builds from a throw-away wrapper module instead: it requires the module at the
pinned version, copies its versioned replace and exclude directives, and maps
replaces that point into the module's own tree (staging or sibling modules,
which a module zip leaves out) to their published versions.

    gobuild.py --module helm.sh/helm/v4 --version v4.3.2 --out DIR \
        helm.sh/helm/v4/cmd/helm
    gobuild.py --module k8s.io/kubernetes --version v1.37.2 --local-version v0.37.2 \
        --ldflags "-X ..." --out DIR k8s.io/kubernetes/cmd/kubelet ...

Binaries land in DIR named after the last element of each package path, or
as NAME when a package is given as NAME=PACKAGE (etcd's main package is
go.etcd.io/etcd/server/v3, whose last element is "v3").
Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def go(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run the go command, failing loudly with its output."""
    result = subprocess.run(
        ["go", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        # A cold Kubernetes component compiles for many minutes on two cores.
        timeout=3600,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"gobuild: go {' '.join(args)} failed ({result.returncode})")
    return result.stdout


def wrapper_gomod(
    module: str, version: str, local_version: str | None, work: Path
) -> str:
    """Return the text of a go.mod that builds `module@version` with its replaces."""
    info = json.loads(go("mod", "download", "-json", f"{module}@{version}", cwd=work))
    spec = json.loads(go("mod", "edit", "-json", info["GoMod"], cwd=work))
    lines = [
        "module fullstack.invalid/gobuild",
        "",
        f"go {spec.get('Go', '1.22')}",
        "",
        f"require {module} {version}",
        "",
    ]
    for rep in spec.get("Replace") or []:
        old, new = rep["Old"]["Path"], rep["New"]
        if new.get("Version"):
            lines.append(f"replace {old} => {new['Path']} {new['Version']}")
        elif local_version:
            lines.append(f"replace {old} => {old} {local_version}")
        else:
            raise SystemExit(
                f"gobuild: {module} replaces {old} with a local path; "
                "pass --local-version"
            )
    for exc in spec.get("Exclude") or []:
        lines.append(f"exclude {exc['Path']} {exc['Version']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument(
        "--local-version", help="version for replaces into the module tree"
    )
    parser.add_argument("--ldflags", default="-s -w")
    parser.add_argument("--tags", default="")
    parser.add_argument("--cgo", action="store_true", help="build with CGO_ENABLED=1")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("packages", nargs="+")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gobuild-") as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text("module fullstack.invalid/probe\n")
        gomod = wrapper_gomod(args.module, args.version, args.local_version, work)
        (work / "go.mod").write_text(gomod)
        env = {"CGO_ENABLED": "1" if args.cgo else "0", "GOFLAGS": "-mod=mod"}
        for spec in args.packages:
            name, _, pkg = spec.rpartition("=")
            name = name or pkg.rstrip("/").rsplit("/", 1)[-1]
            print(
                f"gobuild: {pkg}@{args.version} -> {args.out / name}", file=sys.stderr
            )
            cmd = [
                "build",
                "-trimpath",
                "-ldflags",
                args.ldflags,
                "-o",
                str(args.out / name),
            ]
            if args.tags:
                cmd += ["-tags", args.tags]
            go(*cmd, pkg, cwd=work, env=env)


if __name__ == "__main__":
    main()
