"""What a record says about the machine it ran on."""

import os
import platform
from importlib import metadata

# CPU flags that decide how fast dense kernels run, in /proc/cpuinfo's names.
VECTOR_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "sve",
)
LIBRARIES = ("kgan", "keras", "tensorflow", "numpy", "ai-edge-litert")


def usable_cores():
    """The cores this process may run on (the affinity mask: `taskset`
    narrows it; the count of CPUs the machine has does not)."""
    return sorted(os.sched_getaffinity(0))


def machine_info():
    """CPU model, vector extensions, usable and total cores, library versions."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model") and model in ("", platform.machine()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": model,
        "vector_extensions": [f for f in VECTOR_FLAGS if f in flags],
        "usable_cores": usable_cores(),
        "online_cores": os.sysconf("SC_NPROCESSORS_ONLN"),
        "python": platform.python_version(),
        "libraries": versions,
    }
