"""What produced a record: code version, packages, machine, threads."""
from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING

from ..store import paths

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


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def cpu_model() -> str:
    """The marketing name, for people: generic on virtual machines ("AMD EPYC")."""
    return _cpuinfo().get("model name") or platform.processor() or "unknown"


def machine_id() -> str:
    """What decides the CPU kernels a run gets, finely enough that two machines with one id
    compute the same bits: vendor, family, model and stepping, the instruction-set flags
    the VM exposes (hashed), and the kernel level torch dispatches to. Virtual machines
    share generic names: two "AMD EPYC" hosts (one with AVX-512, one without) rounded
    differently, which a name alone could not tell apart."""
    import hashlib
    info = _cpuinfo()
    flags = " ".join(sorted(info.get("flags", "").split()))
    try:
        import torch
        isa = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        isa = "unknown"
    return (f"{info.get('vendor_id', platform.machine())} family {info.get('cpu family', '?')} "
            f"model {info.get('model', '?')} stepping {info.get('stepping', '?')}; "
            f"flags {hashlib.sha256(flags.encode()).hexdigest()[:12]}; torch {isa}")


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
    return {**_static(), "machine": machine_id(), "device": device_name(device),
            "threads": torch.get_num_threads(),
            "tf32": bool(tf32 and device.type == "cuda")}
