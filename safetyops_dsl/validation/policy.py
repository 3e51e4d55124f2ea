"""The coverage policy of a model: which trace rules are required and which are waived, with the reason.

Resolved here, in validation, because `sops check` honours the model's own waivers too (a waived
`hazard_goal` rule silences SOPS061 as it silences SOPS100 in `sops trace`); the trace analysis
(analysis/coverage.py) evaluates the rules and adds a policy file's overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el

# Model-check errors that the coverage policy reports instead (as SOPS100..102, or not at all where waived):
# a model with a waived gap can still be traced, gated and built.
SUPERSEDED_BY_POLICY = ("SOPS061", "SOPS062", "SOPS063")


def blocking_errors(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The model check's errors that stop the analyses: all of them but those the policy reports instead."""
    return [d for d in diagnostics if d.level is dg.Severity.ERROR and d.code not in SUPERSEDED_BY_POLICY]


POLICY_RULES = (
    "hazard_goal",
    "goal_requirement",
    "requirement_allocation",
    "requirement_evidence",
    "evidence_passing",
    "ml_metric_evidence",
    "injection_coverage",  # the gate's fault-injection check (analysis/gate.py), not a trace rule
)


@dataclass(frozen=True)
class RuleSetting:
    rule: str
    required: bool
    reason: str = ""  # the waiver's reason
    origin: str = "default"  # "default", or the location of the policy line that decided it


@dataclass(frozen=True)
class Policy:
    settings: dict[str, RuleSetting]
    diagnostics: tuple[Diagnostic, ...] = ()


def resolve_policy(model_rules: Sequence[el.PolicyRule], file_rules: Sequence[el.PolicyRule] = ()) -> Policy:
    settings = {r: RuleSetting(r, True) for r in POLICY_RULES}
    diags: list[Diagnostic] = []
    for source in (model_rules, file_rules):
        seen: dict[str, el.PolicyRule] = {}
        for pr in source:
            if pr.rule not in settings:
                continue  # unknown rule names: SOPS011 from validation (model) or the policy-file check
            first = seen.get(pr.rule)
            if first is not None and first.mode != pr.mode:
                diags.append(
                    dg.make(
                        dg.POLICY_CONFLICT,
                        f"policy rule '{pr.rule}' is both required and waived (other line: {first.location})",
                        pr.location,
                        "keep one of the two lines",
                    )
                )
                continue
            seen.setdefault(pr.rule, pr)
            if pr.mode == "waive":
                if not pr.reason.strip():
                    diags.append(
                        dg.make(
                            dg.POLICY_WAIVER_REASON,
                            f"waiver of '{pr.rule}' gives no reason",
                            pr.location,
                            f'write why, for the assessor: waive {pr.rule} "<reason>"',
                        )
                    )
                    continue  # a waiver without a reason does not take effect
                settings[pr.rule] = RuleSetting(pr.rule, False, pr.reason.strip(), str(pr.location))
            else:
                settings[pr.rule] = RuleSetting(pr.rule, True, "", str(pr.location))
    return Policy(settings, tuple(dg.sort_unique(diags)))




def waived_rules(model_rules: Sequence[el.PolicyRule]) -> frozenset[str]:
    """Rules the model's own policy block waives (with a reason and without a conflicting `require`)."""
    return frozenset(r for r, s in resolve_policy(model_rules).settings.items() if not s.required)
