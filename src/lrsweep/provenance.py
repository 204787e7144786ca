"""What produced a record: code version, packages, machine, threads."""
from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata

import torch

from . import paths


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
    def git(*args):
        return subprocess.run(["git", "-C", str(paths.ROOT), *args], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "src"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "src_dirty": None}
    return {"commit": commit or None, "src_dirty": dirty}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def collect(device: torch.device = torch.device("cpu")) -> dict:
    return {**_static(), "device": device_name(device), "threads": torch.get_num_threads()}
