"""Seeded Monte Carlo estimate of P(top) with a Clopper-Pearson interval, independent of the BDD engine.

It evaluates the tree as the model states it, not the preprocessed graph: neither the preprocessor nor the
BDD kernels are on its path, so it checks both. Samples are bit-parallel: one Python int of `BATCH` bits per
node holds that many independent samples, and a gate is one bitwise operation per input (AND `&`, OR `|`,
NOT `^ mask`, XOR `^`, k-of-n by k running "at least j" masks). numpy is not a dependency of the package,
and big-int operations run at memory speed anyway (a 65,536-bit AND is 1,024 machine words).

Each basic event's bits are drawn exactly Bernoulli(p):
  - fewer than 16 true samples expected in a word (p < 16 / BATCH): geometric gaps between the true
    samples (log(U) / log(1 - p)), O(p * BATCH) draws;
  - otherwise the first HEAD bits of p's binary expansion after its leading zeros word-wise (r = u & r or
    u | r for each bit, from the last to the first, u uniform random bits: exact for a finite expansion),
    and the remainder, below p / 2^HEAD, by geometric gaps among the samples the head left false.
Events with p > 1/2 draw the complement. `random.Random(seed)` (Mersenne Twister) makes a run reproducible
on every platform; the batches run in a fixed order.

Interval: Clopper-Pearson (exact binomial), not Wilson: for rare top events (few hits) Wilson's coverage
falls below the stated confidence, Clopper-Pearson's never does. With no hit in N samples the upper bound
is 1 - (alpha/2)^(1/N), about 3.7 / N at 95 %: plain Monte Carlo cannot tell P(top) = 1e-9 from 0 with
fewer than ~1e10 samples, and says so through that bound rather than a point estimate of 0.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from safetyops_dsl.binomial import clopper_pearson
from safetyops_dsl.fta.tree import FaultTree, GateKind, post_order

BATCH = 1 << 16  # samples per word
GEOMETRIC_BELOW = 16.0  # expected true samples per word under which gaps are cheaper than words


@dataclass(frozen=True)
class SimulationFigures:
    samples: int
    seed: int
    hits: int  # samples where the top event occurred
    estimate: float  # hits / samples
    lower: float  # Clopper-Pearson interval at `confidence`
    upper: float
    confidence: float
    method: str = "clopper-pearson"


def simulate(tree: FaultTree, samples: int, seed: int, confidence: float = 0.95) -> SimulationFigures:
    """Estimate P(top) from `samples` independent samples of the basic events."""
    if samples < 1:
        raise ValueError("samples must be positive")
    order = post_order(tree)
    rng = random.Random(seed)
    hits = 0
    done = 0
    while done < samples:
        width = min(BATCH, samples - done)
        hits += _batch(tree, order, rng, width).bit_count()
        done += width
    lower, upper = clopper_pearson(hits, samples, confidence)
    return SimulationFigures(samples, seed, hits, hits / samples, lower, upper, confidence)


def _batch(tree: FaultTree, order: list[str], rng: random.Random, width: int) -> int:
    mask = (1 << width) - 1
    value: dict[str, int] = {}
    # Events in a fixed order (sorted names), drawn whether or not a gate uses them: the stream of random
    # numbers, and so the estimate, does not depend on the order the gates are written in.
    for name in sorted(tree.basic_events):
        value[name] = bernoulli_bits(rng, tree.basic_events[name].probability, width)
    for name, h in tree.house_events.items():
        value[name] = mask if h.state else 0
    for name in order:
        gate = tree.gates[name]
        args = [value[c] for c in gate.inputs]
        value[name] = evaluate_gate(gate.kind, gate.k, args, mask)
    return value[tree.top]


def evaluate_gate(kind: GateKind, k: int | None, args: list[int], mask: int) -> int:
    if kind in (GateKind.AND, GateKind.NAND):
        acc = mask
        for a in args:
            acc &= a
        return acc ^ mask if kind is GateKind.NAND else acc
    if kind in (GateKind.OR, GateKind.NOR):
        acc = 0
        for a in args:
            acc |= a
        return acc ^ mask if kind is GateKind.NOR else acc
    if kind is GateKind.XOR:  # n-ary XOR is odd parity, as the engine reads it
        acc = 0
        for a in args:
            acc ^= a
        return acc
    if kind is GateKind.NOT:
        return args[0] ^ mask
    if kind is GateKind.NULL:
        return args[0]
    if kind is GateKind.ATLEAST:
        assert k is not None
        if k <= 0:
            return mask
        # at[j]: samples where at least j of the inputs seen so far are true (at[0] = all)
        at = [mask] + [0] * k
        for i, a in enumerate(args):
            for j in range(min(k, i + 1), 0, -1):
                at[j] |= at[j - 1] & a
        return at[k]
    raise ValueError(f"unknown gate kind {kind}")


def bernoulli_bits(rng: random.Random, p: float, width: int) -> int:
    """`width` independent Bernoulli(p) bits."""
    mask = (1 << width) - 1
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return mask
    if p > 0.5:
        return bernoulli_bits(rng, 1.0 - p, width) ^ mask  # 1 - p is exact for p > 1/2 (Sterbenz)
    if p < GEOMETRIC_BELOW / width:
        return _geometric_bits(rng, p, width)
    # p = sum b_i 2^-i. The expansion up to HEAD bits past the first 1 is drawn word-wise; the rest,
    # below p / 2^HEAD, by geometric gaps among the samples that the head left false:
    # P = p_head + (1 - p_head) * (p - p_head) / (1 - p_head) = p.
    m, e = math.frexp(p)  # p = m * 2^e, 0.5 <= m < 1
    digits = int(m * (1 << 53))  # the 53-bit significand: p = digits * 2^(e - 53)
    shift = max(0, 53 - HEAD)
    head_digits = digits >> shift
    head = math.ldexp(head_digits, e - 53 + shift)  # exact: a truncation of p's expansion
    r = _expansion_bits(rng, head_digits, 53 - shift - e, width)
    rest = p - head  # exact (Sterbenz): 0 <= rest < head
    if rest > 0.0:
        r |= _geometric_bits(rng, rest / (1.0 - head), width)
    return r


HEAD = 8  # bits of p's expansion drawn word-wise after its first 1; the rest has p / 2^HEAD at most


def _expansion_bits(rng: random.Random, digits: int, nbits: int, width: int) -> int:
    """Bernoulli(digits / 2^nbits) bits: r <- u | r where the expansion has a 1, u & r where a 0, from the
    last bit to the first (r starts at 0; each step halves P(r) and adds half the bit)."""
    r = 0
    for i in range(nbits):  # bit nbits - i of the expansion, the last first
        u = rng.getrandbits(width)
        r = (u | r) if (digits >> i) & 1 else (u & r)
    return r


def _geometric_bits(rng: random.Random, p: float, width: int) -> int:
    """Bernoulli(p) bits from the geometric gaps between true samples: O(p * width) draws."""
    bits = bytearray((width + 7) // 8)
    log_q = math.log1p(-p)
    pos = -1
    while True:
        u = 1.0 - rng.random()  # (0, 1]
        pos += 1 + int(math.log(u) / log_q)
        if pos >= width:
            break
        bits[pos >> 3] |= 1 << (pos & 7)
    return int.from_bytes(bits, "little")
