"""What this CPU can do for int8: read from /proc/cpuinfo (Linux) without any package, so a board can say it too.

On x86-64, onnxruntime's int8 kernels multiply uint8 activations by int8 weights. With VNNI (AVX-512 VNNI or AVX-VNNI) one
instruction sums the four products in 32 bits; without it (AVX2 only, AVX-512 without VNNI) `vpmaddubsw` first sums pairs
of products into int16 and saturates there, so results can differ from the model's int8 semantics. ARM kernels widen
before they sum and do not saturate.

On aarch64 Linux the features come from the kernel's auxiliary vector instead: what the process may really use, also
under qemu-user, whose /proc/cpuinfo is the host's before qemu 8.1 (an emulated Pi 4 would otherwise claim the host's AVX2).
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Optional, Union

# amx_int8: Intel's int8 tile multiply (Sapphire Rapids on); OpenVINO's int8 convs use it (its profile: brgconv_avx512_amx)
# avx_vnni_int8 with avx_ne_convert: oneDNN's avx2_vnni_2 (Sierra Forest, Arrow Lake on)
INT8_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx_vnni_int8", "avx_ne_convert", "amx_int8",
              "neon", "asimd", "asimddp", "i8mm", "sve", "sve2")
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
CpuInfo = Dict[str, Union[str, bool, List[str]]]


def _first_cpu() -> Optional[int]:
    """The lowest-numbered CPU this process may run on (an RK3399 pinned to its big cores: cpu4), where Linux says."""
    try:
        return min(os.sched_getaffinity(0))
    except (AttributeError, OSError, ValueError):
        return None


def _cpuinfo_fields(text: str, processor: Optional[int] = None) -> Dict[str, str]:
    """The fields of one processor's block of a /proc/cpuinfo text: `processor`'s where there is one, else the first."""
    blocks: List[Dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        key, _, value = line.partition(":")
        blocks[-1].setdefault(key.strip(), value.strip())
    return next((b for b in blocks if processor is not None and b.get("processor") == str(processor)), blocks[0])


def _flags(fields: Dict[str, str]) -> FrozenSet[str]:
    """A processor block's instruction-set flags (x86 `flags`, ARM `Features`)."""
    return frozenset((fields.get("flags") or fields.get("Features") or "").split())


def cpu_flags(cpuinfo: str = "") -> FrozenSet[str]:
    """The instruction-set flags of the first processor this process may run on; empty where unknown."""
    return _flags(_cpuinfo_fields(cpuinfo or _read_cpuinfo(), _first_cpu()))


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def _x86(machine: str = "") -> bool:
    """Whether `machine` (this one's, platform.machine(), if empty) is x86-64."""
    return (machine or platform.machine()).lower() in ("x86_64", "amd64")


def has_int8_saturation(machine: str = "", flags: FrozenSet[str] = frozenset(), cpuinfo: str = "") -> bool:
    """True on x86-64 without VNNI: onnxruntime's u8 x s8 kernels can saturate there (see the module docstring)."""
    if not _x86(machine):
        return False
    flags = flags or cpu_flags(cpuinfo)
    return not (flags & VNNI_FLAGS)


# Arm Ltd's (implementer 0x41) part numbers of the cores the board profiles name, and of their neighbours
ARM_PARTS = {"0xd03": "cortex-a53", "0xd04": "cortex-a35", "0xd05": "cortex-a55", "0xd07": "cortex-a57", "0xd08": "cortex-a72",
             "0xd09": "cortex-a73", "0xd0b": "cortex-a76", "0xd0c": "neoverse-n1", "0xd40": "neoverse-v1", "0xd41": "cortex-a78",
             "0xd42": "cortex-a78ae", "0xd49": "neoverse-n2", "0xd4f": "neoverse-v2"}
FOREIGN_CPUINFO = "emulated ARM CPU (/proc/cpuinfo is the host's)"  # qemu-user before 8.1 passes the host's through


def _arm_model(fields: Dict[str, str]) -> str:
    """An ARM core's name from /proc/cpuinfo's implementer and part ('cortex-a72'), else its raw codes."""
    implementer, part = fields.get("CPU implementer", ""), fields.get("CPU part", "")
    if implementer == "0x41" and part in ARM_PARTS:
        return ARM_PARTS[part]
    return f"implementer {implementer} part {part}" if part else ""


def cpu_info(cpuinfo: str = "", machine: str = "", hwcaps: Optional[FrozenSet[str]] = None) -> CpuInfo:
    """Model name, machine, the int8-relevant instruction sets and whether int8 kernels saturate: the label of every
    speed figure. On 64-bit ARM the instruction sets are the auxiliary vector's (`hwcaps`, read here when not given), and
    on ARM a /proc/cpuinfo of another architecture (qemu-user before 8.1 passes the host's through) names no model."""
    text = cpuinfo or _read_cpuinfo()
    fields = _cpuinfo_fields(text, _first_cpu())
    machine = machine or platform.machine()
    flags = _flags(fields)
    model = fields.get("model name", "")
    if machine.lower().startswith(("aarch64", "arm")):
        foreign = "flags" in fields  # x86's key; ARM's /proc/cpuinfo says "Features"
        model = FOREIGN_CPUINFO if foreign else model or _arm_model(fields)
        hwcaps = arm64_hwcaps() if hwcaps is None else hwcaps
        flags = hwcaps if hwcaps is not None else frozenset() if foreign else flags
    int8 = [f for f in INT8_FLAGS if f in flags]
    saturates = has_int8_saturation(machine, flags)
    return {"model": model or fields.get("Hardware") or platform.processor() or "unknown",
            "machine": machine, "int8_instructions": int8, "vnni": bool(flags & VNNI_FLAGS), "int8_saturates": saturates,
            "label": describe(machine, model, int8, saturates)}


def describe(machine: str, model: str, int8: List[str], saturates: bool) -> str:
    """One line such as 'AMD EPYC (x86_64; int8: avx2; no VNNI: u8s8 kernels saturate)'."""
    what = ", ".join(int8) or "no SIMD int8 extensions listed"
    note = "; no VNNI: u8s8 kernels saturate" if saturates else ""
    return f"{model or machine} ({machine}; int8: {what}{note})"


NO_VNNI_TARGET = "x86-64-no-vnni"  # the manifest target of the int8 ONNX with uint8 weights (export/onnx_u8_weights.py)


def onnx_target(machine: str = "", flags: FrozenSet[str] = frozenset()) -> Optional[str]:
    """The ONNX artifact target this CPU prefers: NO_VNNI_TARGET where int8 kernels would saturate, else None (any CPU)."""
    return NO_VNNI_TARGET if has_int8_saturation(machine, flags) else None


def openvino_takes_int8_activations(machine: str = "", flags: FrozenSet[str] = frozenset()) -> bool:
    """Whether OpenVINO's CPU plugin runs convolutions on signed int8 activations here, so that it may be given the int8
    file made for it (activations int8, zero point 0): on x86 only with AMX or AVX2-VNNI-2, as its
    `Transformations::Lpt` decides; elsewhere on x86 it shifts them to uint8, and on the PP-OCRv4 detector (AMD EPYC,
    AVX-512 VNNI, OpenVINO 2026.4) that shift, after `MoveFakeQuantize` copied a quantized Concat's quantizer onto its
    inputs, dropped the Concat's scale: no text box was left. Its ARM plugin is not concerned (True). The flags stand in
    for what OpenVINO asks oneDNN at run time: an ONEDNN_MAX_CPU_ISA below AMX, or a kernel that denies AMX to the
    process, would make the two disagree."""
    if not _x86(machine):
        return True
    flags = flags or cpu_flags()
    return "amx_int8" in flags or {"avx_vnni_int8", "avx_ne_convert"} <= flags


def lite_target(machine: str = "") -> Optional[str]:
    """The Paddle Lite .nb target this machine runs: "arm" on ARM, "x86" on x86-64 (the manifest's `target`)."""
    return "arm" if (machine or platform.machine()).lower().startswith(("aarch64", "arm")) else "x86" if _x86(machine) else None


AT_HWCAP, AT_HWCAP2 = 16, 26  # getauxval's keys for the kernel's words of CPU features
ARM64_HALF_PRECISION = (1 << 9) | (1 << 10)  # HWCAP_FPHP, HWCAP_ASIMDHP (Linux arch/arm64 uapi hwcap.h): ARMv8.2 fp16
# the same header's int8 features: NEON, its dot product (ARMv8.2), SVE, SVE2, the 8-bit matrix multiply (ARMv8.6)
ARM64_INT8_HWCAPS = (("asimd", AT_HWCAP, 1 << 1), ("asimddp", AT_HWCAP, 1 << 20), ("sve", AT_HWCAP, 1 << 22),
                     ("sve2", AT_HWCAP2, 1 << 1), ("i8mm", AT_HWCAP2, 1 << 13))


def _getauxval() -> Optional[Callable[[int], int]]:
    """The C library's getauxval on aarch64 Linux; None elsewhere or where the C library has none."""
    if not sys.platform.startswith("linux") or platform.machine().lower() not in ("aarch64", "arm64") or sys.maxsize < 2**32:
        return None  # a 32-bit process on a 64-bit ARM kernel gets 32-bit ARM's HWCAP bits, which mean other things
    try:
        getauxval = ctypes.CDLL(None).getauxval
    except (OSError, AttributeError, TypeError):
        return None
    getauxval.restype, getauxval.argtypes = ctypes.c_ulong, [ctypes.c_ulong]
    return getauxval


def arm64_hwcaps() -> Optional[FrozenSet[str]]:
    """The int8 features (ARM64_INT8_HWCAPS) this aarch64 Linux process may use, from the auxiliary vector; None where
    that cannot be read."""
    getauxval = _getauxval()
    if getauxval is None:
        return None
    return frozenset(name for name, key, bit in ARM64_INT8_HWCAPS if getauxval(key) & bit)


def arm64_half_precision() -> Optional[bool]:
    """Whether this aarch64 Linux CPU does half-precision arithmetic (Cortex-A76 and later do; A72 and A53 do not), from
    the auxiliary vector (see the module docstring). None where that cannot be read: not aarch64 Linux, or a C library
    without getauxval."""
    getauxval = _getauxval()
    return None if getauxval is None else bool(getauxval(AT_HWCAP) & ARM64_HALF_PRECISION)
