"""What produced a record: code version, packages, machine, threads."""
from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING

from . import paths

if TYPE_CHECKING:  # git_state serves the cite page, which needs no torch
    import torch


@functools.lru_cache(maxsize=1)
def _static() -> dict:
    versions = {}
    for pkg in ("lrsweep", "torch", "numpy", "prodigyopt", "dadaptation", "dog-optimizer", "schedulefree"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {"python": platform.python_version(), "packages": versions,
            "platform": platform.platform(), "cpu": cpu_model(), "git": git_state()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> dict:
    """The commit and whether src/ differs from it. A copy of the tree without .git (a
    cluster node, a rented GPU) can name its commit in $LRSWEEP_COMMIT; whether that copy
    was edited is then unknown (None)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(paths.ROOT), *args], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "src")) if commit else None
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", None
    if not commit:
        return {"commit": os.environ.get("LRSWEEP_COMMIT") or None, "src_dirty": None}
    return {"commit": commit, "src_dirty": dirty}


def device_name(device: torch.device) -> str:
    import torch
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def collect(device: torch.device | None = None) -> dict:
    import torch
    device = device or torch.device("cpu")
    tf32 = torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32
    return {**_static(), "device": device_name(device), "threads": torch.get_num_threads(),
            "tf32": bool(tf32 and device.type == "cuda")}
