"""C kernels of the fault-tree engine; everything else is declared in pyproject.toml.

Why C: the engine's inner loops (BDD apply, minsol over a ZDD, probability passes) run millions of steps on
large trees; in Python they cost 5-50x what SCRAM (C++) needs (see benchmarks/fta_vs_scram.py). `_xmlk`
reads plain Open-PSA XML into the reader's elements without a Python call per element.
`-ffp-contract=off` keeps floating-point results identical across platforms (no fused multiply-add).
"""

from setuptools import Extension, setup

HEADER = "safetyops_dsl/fta/_kernel_buffers.h"  # included by both kernels
FLAGS = ["-ffp-contract=off", "-std=c11"]

setup(
    ext_modules=[
        Extension("safetyops_dsl.fta._bddk", ["safetyops_dsl/fta/_bddk.c"], depends=[HEADER], extra_compile_args=FLAGS),
        Extension("safetyops_dsl.fta._zddk", ["safetyops_dsl/fta/_zddk.c"], depends=[HEADER], extra_compile_args=FLAGS),
        Extension("safetyops_dsl.fta._xmlk", ["safetyops_dsl/fta/_xmlk.c"], extra_compile_args=FLAGS),
    ]
)
