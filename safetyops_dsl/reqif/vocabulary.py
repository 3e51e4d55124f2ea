"""The names a ReqIF file of ours is made of, declared once for the exporter and the importer.

The importer finds object kinds and attributes by their LONG-NAME, not by IDENTIFIER: a requirement tool that
re-exports the file keeps the long names of types and attributes but may mint identifiers of its own. The
ReqIF.* names are the ReqIF Implementation Guide's standard attributes, which the tools map to their own
(DOORS "Object Text" -> ReqIF.Text, "Absolute Number" -> ReqIF.ForeignID)."""

from __future__ import annotations

# -- spec object types: long name -> the model's element kind
HAZARD = "Hazard"
GOAL = "Safety goal"
REQUIREMENT = "Requirement"
KIND_OF_TYPE = {HAZARD: "hazard", GOAL: "safety_goal", REQUIREMENT: "requirement"}

# -- attributes (all strings)
FOREIGN_ID = "ReqIF.ForeignID"  # the element's qualified name: package.Name
TEXT = "ReqIF.Text"  # the title: the requirement, goal or hazard as a sentence
SITUATION = "SOPS.Situation"
SEVERITY = "SOPS.Severity"
EXPOSURE = "SOPS.Exposure"
CONTROLLABILITY = "SOPS.Controllability"
# A hazard's and a goal's level as the analysis derives it (read-only); a requirement's `asil` as written,
# e.g. B(D) (editable: a requirement's level is declared, not derived).
INTEGRITY = "SOPS.IntegrityLevel"
SAFE_STATE = "SOPS.SafeState"
FTTI = "SOPS.FTTI"
TARGET = "SOPS.Target"
ALLOCATED_TO = "SOPS.AllocatedTo"  # the `allocated_to` names as written, comma separated (editable)
EVIDENCE = "SOPS.Evidence"  # the evidence verifying the element, "; " between items (read-only)
SOURCE = "SOPS.Source"  # model file and line, relative to the model root (read-only)

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    HAZARD: (FOREIGN_ID, TEXT, SITUATION, SEVERITY, EXPOSURE, CONTROLLABILITY, INTEGRITY, EVIDENCE, SOURCE),
    GOAL: (FOREIGN_ID, TEXT, SAFE_STATE, FTTI, TARGET, INTEGRITY, EVIDENCE, SOURCE),
    REQUIREMENT: (FOREIGN_ID, TEXT, ALLOCATED_TO, INTEGRITY, EVIDENCE, SOURCE),
}
# What an import may change in a requirement: the rest is computed, or lives in the model (evidence).
EDITABLE_REQUIREMENT = {TEXT, ALLOCATED_TO, INTEGRITY}

# -- relations: long name -> (source kind, target kinds)
REFINES = "refines"  # requirement -> goal or requirement
MITIGATES = "mitigates"  # safety goal -> hazard
RELATIONS = (MITIGATES, REFINES)

# Identifiers of our own objects: XML IDs (NCName), stable for a given model so that files diff cleanly.
ID_PREFIX = "sops-"
# ReqIF requires a CREATION-TIME and LAST-CHANGE on everything; a clock would make every export differ, so
# they hold SOURCE_DATE_EPOCH (the reproducible-builds convention) or, without it, the epoch.
EPOCH = "1970-01-01T00:00:00+00:00"
