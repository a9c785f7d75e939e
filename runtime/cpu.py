"""What this CPU can do for int8: read from /proc/cpuinfo (Linux) without any package, so a board can say it too.

On x86-64, onnxruntime's int8 kernels multiply uint8 activations by int8 weights. With VNNI (AVX-512 VNNI or AVX-VNNI) one
instruction sums the four products in 32 bits; without it (AVX2 only, AVX-512 without VNNI) `vpmaddubsw` first sums pairs
of products into int16 and saturates there, so results can differ from the model's int8 semantics. ARM kernels widen
before they sum and do not saturate.
"""
from __future__ import annotations

import ctypes
import platform
import sys
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Union

# amx_int8: Intel's int8 tile multiply (Sapphire Rapids on); OpenVINO's int8 convs use it (its profile: brgconv_avx512_amx)
INT8_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
CpuInfo = Dict[str, Union[str, bool, List[str]]]


def _cpuinfo_fields(text: str) -> Dict[str, str]:
    """The first processor's fields of a /proc/cpuinfo text."""
    fields: Dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags(cpuinfo: str = "") -> FrozenSet[str]:
    """The instruction-set flags of the first processor (x86 `flags`, ARM `Features`); empty where unknown."""
    text = cpuinfo or _read_cpuinfo()
    fields = _cpuinfo_fields(text)
    return frozenset((fields.get("flags") or fields.get("Features") or "").split())


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def has_int8_saturation(machine: str = "", flags: FrozenSet[str] = frozenset(), cpuinfo: str = "") -> bool:
    """True on x86-64 without VNNI: onnxruntime's u8 x s8 kernels can saturate there (see the module docstring)."""
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64"):
        return False
    flags = flags or cpu_flags(cpuinfo)
    return not (flags & VNNI_FLAGS)


def cpu_info(cpuinfo: str = "") -> CpuInfo:
    """Model name, machine, the int8-relevant instruction sets and whether int8 kernels saturate: the label of every speed figure."""
    text = cpuinfo or _read_cpuinfo()
    fields = _cpuinfo_fields(text)
    flags = cpu_flags(text)
    machine = platform.machine()
    int8 = [f for f in INT8_FLAGS if f in flags]
    saturates = has_int8_saturation(machine, flags)
    return {"model": fields.get("model name") or fields.get("Hardware") or fields.get("CPU part") or platform.processor() or "unknown",
            "machine": machine, "int8_instructions": int8, "vnni": bool(flags & VNNI_FLAGS), "int8_saturates": saturates,
            "label": describe(machine, fields.get("model name", ""), int8, saturates)}


def describe(machine: str, model: str, int8: List[str], saturates: bool) -> str:
    """One line such as 'AMD EPYC (x86_64; int8: avx2; no VNNI: u8s8 kernels saturate)'."""
    what = ", ".join(int8) or "no SIMD int8 extensions listed"
    note = "; no VNNI: u8s8 kernels saturate" if saturates else ""
    return f"{model or machine} ({machine}; int8: {what}{note})"


NO_VNNI_TARGET = "x86-64-no-vnni"  # the manifest target of the int8 ONNX with uint8 weights (export/onnx_u8_weights.py)


def onnx_target(machine: str = "", flags: FrozenSet[str] = frozenset()) -> Optional[str]:
    """The ONNX artifact target this CPU prefers: NO_VNNI_TARGET where int8 kernels would saturate, else None (any CPU)."""
    return NO_VNNI_TARGET if has_int8_saturation(machine, flags) else None


def lite_target(machine: str = "") -> Optional[str]:
    """The Paddle Lite .nb target this machine runs: "arm" on ARM, "x86" on x86-64 (the manifest's `target`)."""
    machine = (machine or platform.machine()).lower()
    return "arm" if machine.startswith(("aarch64", "arm")) else "x86" if machine in ("x86_64", "amd64") else None


AT_HWCAP = 16  # getauxval's key for the kernel's first word of CPU features
ARM64_HALF_PRECISION = (1 << 9) | (1 << 10)  # HWCAP_FPHP, HWCAP_ASIMDHP (Linux arch/arm64 uapi hwcap.h): ARMv8.2 fp16


def arm64_half_precision() -> Optional[bool]:
    """Whether this aarch64 Linux CPU does half-precision arithmetic (Cortex-A76 and later do; A72 and A53 do not), from
    the kernel's auxiliary vector: what the process may really use, also under qemu-user, whose /proc/cpuinfo is the
    host's. None where that cannot be read: not aarch64 Linux, or a C library without getauxval."""
    if not sys.platform.startswith("linux") or platform.machine().lower() not in ("aarch64", "arm64"):
        return None
    try:
        getauxval = ctypes.CDLL(None).getauxval
    except (OSError, AttributeError, TypeError):
        return None
    getauxval.restype, getauxval.argtypes = ctypes.c_ulong, [ctypes.c_ulong]
    return bool(getauxval(AT_HWCAP) & ARM64_HALF_PRECISION)
