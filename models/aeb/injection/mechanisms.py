"""Executable stand-ins for the AEB safety mechanisms: each takes one injected fault and returns the time (ms)
from the fault to its detection, or None when the mechanism misses it. A real team points the hook at its
HIL bench; these few lines make the campaign loop run end to end in CI.

`inject(case)` is the hook of test_campaign.py (SOPS_INJECTION_HOOK=mechanisms:inject). AEB_DEGRADE names
mechanisms to break on purpose (the docs and the tests show the gate catching it).
"""

from __future__ import annotations

import math
import os
import random
import zlib
from collections.abc import Callable

Sim = Callable[[random.Random, bool], float | None]


def watchdog(rng: random.Random, degraded: bool) -> float | None:
    """Window watchdog: the brake task kicks it every 10 ms; a CAN task that stops kicking is reset when the
    open window closes. Degraded: a 250 ms window (longer than the FTTI)."""
    window = 250.0 if degraded else 50.0
    fault_at = rng.uniform(0.0, 1000.0)
    last_kick = math.floor(fault_at / 10.0) * 10.0
    closes = (math.floor(last_kick / window) + 1) * window
    return max(closes, last_kick + 10.0) - fault_at


def lockstep(rng: random.Random, degraded: bool) -> float | None:
    """Two cores compute the brake command; one bit of the checker core flips; the comparator runs every 1 ms."""
    request = rng.randrange(1 << 16)
    main, checker = request * 3 + 1, (request * 3 + 1) ^ (1 << rng.randrange(16))
    if degraded:
        checker = main  # comparator stuck at "equal"
    return rng.uniform(0.0, 1.0) if main != checker else None


def frame_counter(rng: random.Random, degraded: bool) -> float | None:
    """The imager repeats its last frame: perception sees the rolling counter stand still for 2 frames (30 fps)."""
    period = 1000.0 / 30.0
    counter, seen, still = rng.randrange(256), None, 0
    t = rng.uniform(0.0, period)  # the first repeated frame arrives
    for _ in range(10):
        still = still + 1 if counter == seen else 0
        seen = counter
        if still >= (5 if degraded else 2):
            return t
        t += period
    return None


def frame_timeout(rng: random.Random, degraded: bool) -> float | None:
    """No frame at all: the 100 ms frame timeout fires, checked on a 10 ms tick."""
    return 100.0 + rng.uniform(0.0, 10.0) + (200.0 if degraded else 0.0)


def ood_monitor(rng: random.Random, degraded: bool) -> float | None:
    """A shifted frame (out of the ODD) has an OOD score ~ N(3.5, 1); the monitor flags it above 1.5 within one
    frame. About 2 % of shifted frames score below the threshold: a real miss rate."""
    score = rng.gauss(2.0 if degraded else 3.5, 1.0)
    return rng.uniform(0.0, 33.3) if score > 1.5 else None


def under_voltage(rng: random.Random, degraded: bool) -> float | None:
    """The 12 V feed decays with a time constant of 1..20 ms; 5 consecutive 1 kHz samples below 9 V trip it."""
    tau = rng.uniform(1.0, 20.0)
    return tau * math.log(12.0 / 9.0) + 5.0 + rng.uniform(0.0, 1.0) + (300.0 if degraded else 0.0)


def alignment_monitor(rng: random.Random, degraded: bool) -> float | None:
    """Radar and camera azimuths of the same object, compared every 50 ms radar cycle: an offset above 0.5 deg
    is detected; smaller misalignments (of the 0.2..3 deg injected) go unseen."""
    offset = rng.uniform(0.2, 3.0)
    threshold = 2.0 if degraded else 0.5
    return rng.uniform(0.0, 50.0) + 20.0 if offset > threshold else None


def blockage_detect(rng: random.Random, degraded: bool) -> float | None:
    """No echo for 3 consecutive 40 ms radar cycles while the vehicle moves."""
    return rng.uniform(0.0, 40.0) + 3 * 40.0 * (3 if degraded else 1)


def track_plausibility(rng: random.Random, degraded: bool) -> float | None:
    """The fused track's speed is compared with odometry every 20 ms fusion cycle; a fault corrupts it by
    2..20 m/s; more than 1 m/s apart is implausible."""
    error = rng.uniform(2.0, 20.0)
    return rng.uniform(0.0, 20.0) if error > (25.0 if degraded else 1.0) else None


def pressure_feedback(rng: random.Random, degraded: bool) -> float | None:
    """The wheel-pressure sensor must follow the request within 30 ms of settling (10 ms check period)."""
    return 30.0 + rng.uniform(0.0, 10.0) + (500.0 if degraded else 0.0)


SIMULATIONS: dict[str, Sim] = {
    "BrakeECU.Watchdog": watchdog,
    "BrakeECU.Lockstep": lockstep,
    "Camera.FrameCounter": frame_counter,
    "Camera.FrameTimeout": frame_timeout,
    "Perception.OodMonitor": ood_monitor,
    "PowerSupply.UnderVoltage": under_voltage,
    "Radar.AlignmentMonitor": alignment_monitor,
    "Radar.BlockageDetect": blockage_detect,
    "TrackFusion.TrackPlausibility": track_plausibility,
    "BrakeActuator.PressureFeedback": pressure_feedback,
}
MIN_INJECTIONS = 100  # beyond the campaign's plan: mechanisms with a real miss rate need more than zero-miss n


def inject(case: dict) -> tuple[int, int, float | None] | None:
    sim = SIMULATIONS.get(case["mechanism"])
    if sim is None:
        return None  # no stand-in: the case is skipped, never passed
    degraded = case["mechanism"].rpartition(".")[2] in os.environ.get("AEB_DEGRADE", "").split(",")
    rng = random.Random(zlib.crc32(case["id"].encode()))  # the same case, the same faults
    n = max(case["injections"] or MIN_INJECTIONS, MIN_INJECTIONS)
    times = [sim(rng, degraded) for _ in range(n)]
    found = [t for t in times if t is not None]
    return n, len(found), round(max(found), 3) if found else None
