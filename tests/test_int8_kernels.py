"""int8 kernels per CPU kind: on x86-64 without VNNI onnxruntime's u8 x s8 kernels saturate; the bundle carries a uint8-weight
file for such CPUs, the runtime picks it there, and it computes the model's exact int8 semantics.

Both x86 kernel paths are exercised on any machine of the class: natively where the host lacks VNNI, and under
`qemu-x86_64-static -cpu Haswell` (AVX2, no AVX-512) where it has it.
"""
from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy as np

from paddle_edge import runtime
from paddle_edge.export.artifact_engines import run_artifact
from paddle_edge.runtime.evaluate import load_groups, save_groups
from paddle_edge.export.debian_rootfs import debian_tool
from paddle_edge.runtime import cpu
from paddle_edge.runtime.cpu import (NO_VNNI_TARGET, cpu_flags, cpu_info, has_int8_saturation, onnx_target,
                                    openvino_takes_int8_activations)

AVX2_ONLY = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx fma avx2\n\nprocessor\t: 1\n"
AVX512_VNNI = "processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: avx2 avx512f avx512bw avx512_vnni\n"
ZEN_4 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: avx2 avx512f avx512bw avx512_vnni avx512_bf16\n"
SAPPHIRE_RAPIDS = "processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: avx2 avx512f avx512_vnni avx_vnni amx_bf16 amx_tile amx_int8\n"
AVX2_VNNI_2 = "processor\t: 0\nmodel name\t: Intel Xeon 6\nflags\t\t: avx2 avx_vnni avx_vnni_int8 avx_ne_convert\n"
AVX512_NO_VNNI = "processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: avx2 avx512f avx512bw\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 asimddp\nCPU part\t: 0xd0b\n"
PI_4 = ("processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
        "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\nprocessor\t: 1\n")
SAMPLES = 500


def test_each_cpu_kind_gets_its_int8_file(lenet_bundle):
    assert onnx_target("x86_64", cpu_flags(AVX2_ONLY)) == NO_VNNI_TARGET
    assert onnx_target("x86_64", cpu_flags(AVX512_NO_VNNI)) == NO_VNNI_TARGET
    assert onnx_target("x86_64", cpu_flags(AVX512_VNNI)) is None
    assert onnx_target("aarch64", cpu_flags(ARM)) is None
    manifest = runtime.load_bundle(lenet_bundle.directory).manifest
    assert manifest.pick("onnx", "int8", prefer=NO_VNNI_TARGET)[0] == "onnx-int8-u8w"
    assert manifest.pick("onnx", "int8")[0] == "onnx-int8"
    assert manifest.pick("onnx", "fp32", prefer=NO_VNNI_TARGET)[0] == "onnx-fp32"
    here = runtime.open(lenet_bundle.directory, precision="int8", threads=1).artifact
    print(f"{cpu_info()['label']}: runs {here}")
    assert here == ("onnx-int8-u8w" if has_int8_saturation() else "onnx-int8")


def test_openvino_is_given_its_int8_activation_file_only_where_its_plugin_takes_int8_activations(lenet_bundle, monkeypatch):
    """OpenVINO's CPU plugin convolves signed int8 activations only with AMX or AVX2-VNNI-2; on other x86 CPUs (a Zen 4
    with AVX-512 VNNI) its shift to uint8 lost a quantized Concat's scale, so it gets the file the thin runtime runs."""
    assert openvino_takes_int8_activations("x86_64", cpu_flags(SAPPHIRE_RAPIDS))
    assert openvino_takes_int8_activations("x86_64", cpu_flags(AVX2_VNNI_2))
    assert not openvino_takes_int8_activations("x86_64", cpu_flags(ZEN_4))
    assert not openvino_takes_int8_activations("x86_64", cpu_flags(AVX512_VNNI))
    assert openvino_takes_int8_activations("aarch64", cpu_flags(ARM))
    manifest = runtime.load_bundle(lenet_bundle.directory).manifest
    assert {"onnx-int8", "onnx-int8-openvino", "onnx-int8-u8w"} <= set(manifest.artifacts)
    for flags, expected in ((ZEN_4, "onnx-int8"), (SAPPHIRE_RAPIDS, "onnx-int8-openvino"), (AVX2_ONLY, "onnx-int8-u8w")):
        monkeypatch.setattr(cpu, "_read_cpuinfo", lambda flags=flags: flags)
        monkeypatch.setattr(platform, "machine", lambda: "x86_64")
        assert runtime.artifact_for(manifest, "openvino", "int8") == expected, flags
        assert runtime.artifact_for(manifest, "onnxruntime", "int8") != "onnx-int8-openvino"


def test_every_speed_figure_names_the_cpu_and_its_int8_instructions(monkeypatch):
    monkeypatch.setattr(cpu, "_first_cpu", lambda: 4)  # pinned to an RK3399's big cores (taskset -c 4,5)
    assert cpu_info(AVX512_VNNI, "x86_64")["label"] == "Intel Xeon (x86_64; int8: avx2, avx512f, avx512bw, avx512_vnni)"
    assert cpu_info(AVX2_ONLY, "x86_64")["label"] == "AMD EPYC (x86_64; int8: avx2; no VNNI: u8s8 kernels saturate)"
    assert cpu_info(PI_4, "aarch64", hwcaps=frozenset({"asimd"}))["label"] == "cortex-a72 (aarch64; int8: asimd)"
    rk3399 = PI_4.replace("0xd08", "0xd03") + "\n" + PI_4.replace("processor\t: 0", "processor\t: 4")  # cpu0: an A53; cpu4: an A72
    assert cpu_info(rk3399, "aarch64", hwcaps=frozenset({"asimd"}))["label"] == "cortex-a72 (aarch64; int8: asimd)"
    emulated = cpu_info(AVX512_VNNI, "aarch64", hwcaps=frozenset({"asimd", "asimddp"}))  # under qemu-user: the host's text
    assert emulated["label"] == "emulated ARM CPU (/proc/cpuinfo is the host's) (aarch64; int8: asimd, asimddp)"
    assert not emulated["vnni"] and not emulated["int8_saturates"]
    assert cpu_info(AVX2_ONLY, "armv7l")["label"] == "emulated ARM CPU (/proc/cpuinfo is the host's) (armv7l; int8: no SIMD int8 extensions listed)"


def test_arm64_features_are_read_from_the_kernels_bits(monkeypatch):
    """The HWCAP bits of Linux's arch/arm64/include/uapi/asm/hwcap.h, as getauxval gives them."""
    words = {cpu.AT_HWCAP: (1 << 1) | (1 << 20) | (1 << 22) | (1 << 9), cpu.AT_HWCAP2: (1 << 1) | (1 << 13)}
    monkeypatch.setattr(cpu, "_getauxval", lambda: words.get)
    assert cpu.arm64_hwcaps() == {"asimd", "asimddp", "sve", "sve2", "i8mm"} and cpu.arm64_half_precision() is True
    words.update({cpu.AT_HWCAP: 1 << 1, cpu.AT_HWCAP2: 0})  # a Cortex-A72: NEON only, no fp16
    assert cpu.arm64_hwcaps() == {"asimd"} and cpu.arm64_half_precision() is False
    assert cpu_info(PI_4, "aarch64")["int8_instructions"] == ["asimd"]


def _python_with_avx2_kernels() -> List[str]:
    """This interpreter where the host lacks VNNI; else the same one under qemu's Haswell model (AVX2, no AVX-512)."""
    if has_int8_saturation():
        return [sys.executable]
    return [debian_tool("qemu-x86_64-static", "qemu-user-static"), "-cpu", "Haswell", sys.executable]


def _run_on_avx2(bundle: Path, artifact: str, workdir: Path) -> np.ndarray:
    subprocess.run([*_python_with_avx2_kernels(), "-m", "paddle_edge.runtime.evaluate", str(bundle), str(workdir),
                    "--precision", "int8", "--artifact", artifact, "--threads", "2"], check=True, capture_output=True)
    return load_groups(workdir / "outputs-int8.npz")[0]["0"]


def test_without_vnni_the_uint8_weight_file_keeps_the_exact_int8_semantics(lenet_bundle, mnist_test, tmp_path):
    x = mnist_test[0][:SAMPLES]
    save_groups(tmp_path / "inputs.npz", [{"image": x}])
    bundle = runtime.load_bundle(lenet_bundle.directory)
    exact = run_artifact(bundle, "onnx-int8", {"image": x})[0]
    assert np.array_equal(exact, run_artifact(bundle, "onnx-int8-u8w", {"image": x})[0])  # one function, two encodings
    generic, uint8 = (_run_on_avx2(lenet_bundle.directory, name, tmp_path) for name in ("onnx-int8", "onnx-int8-u8w"))
    generic_diff, uint8_diff = float(np.abs(generic - exact).max()), float(np.abs(uint8 - exact).max())
    print(f"AVX2 kernels vs exact int8, {SAMPLES} images: onnx-int8 max abs diff {generic_diff:.3g} "
          f"(argmax {np.mean(generic.argmax(1) == exact.argmax(1)) * 100:.2f} %), onnx-int8-u8w {uint8_diff:.3g}")
    assert (uint8.argmax(1) == exact.argmax(1)).all() and uint8_diff < 0.05
    assert generic_diff > 4 * uint8_diff  # the saturation this file exists for is real on these kernels
