"""Subprocess calls with a timeout, captured output and errors that say why."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.config import ROOT, tool_env

log = logging.getLogger("harness")


class CommandError(RuntimeError):
    """A command exited non-zero; carries its output for the report."""

    def __init__(self, cmd: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.cmd, self.returncode, self.stdout, self.stderr = (
            cmd,
            returncode,
            stdout,
            stderr,
        )
        tail = "\n".join((stdout + stderr).strip().splitlines()[-30:])
        super().__init__(f"`{shlex.join(cmd)}` exited {returncode}:\n{tail}")


def run(
    cmd: Sequence[str | Path],
    *,
    timeout: float = 600,
    check: bool = True,
    input: str | bytes | None = None,
    cwd: Path = ROOT,
    stream: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command with the pinned tools on PATH.

    Output is captured (and returned) unless `stream` is set, in which case it
    goes to the terminal, for long steps whose progress a user wants to see.
    """
    args = [str(part) for part in cmd]
    log.info("$ %s", shlex.join(args))
    result = subprocess.run(
        args,
        cwd=cwd,
        env=tool_env(),
        input=input,
        text=not isinstance(input, bytes),
        capture_output=not stream,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise CommandError(
            args, result.returncode, result.stdout or "", result.stderr or ""
        )
    return result
