"""Diagnostics: one place that owns every code, its severity and its documentation (as BMW's TRLC does).

A diagnostic is a value; nothing here raises. Rendering is compiler style:

    models/aeb/aeb.sops:41:1: error[SOPS061]: hazard 'H3' is mitigated by no safety goal
       41 | hazard H3 "..." {
          | ^^^^^^^^^^^^^^^^^
    hint: add `safety_goal SGx "..." mitigates H3`
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from enum import Enum

from safetyops_dsl import schemas
from safetyops_dsl.lazy_dataclasses import dataclass


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Location:
    """A span in a source file. `file` is as the user named it (relative paths stay relative).

    Columns count code points. The end is exclusive (the column after the last character), as in LSP ranges
    and SARIF regions; `end_line == 0` means the location is a single point (a position with no known extent).
    """

    file: str
    line: int = 0  # 1-based; 0 = the whole file
    col: int = 0  # 1-based; 0 = the whole line
    end_line: int = 0  # 1-based line of the end; 0 = no span
    end_col: int = 0  # 1-based column after the last character

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{max(self.col, 1)}"

    @property
    def has_span(self) -> bool:
        return self.line > 0 and self.col > 0 and (self.end_line, self.end_col) > (self.line, self.col)

    def __reduce__(self) -> tuple[Callable[..., Location], tuple[str, int, int, int, int]]:
        # Pickled as its five values: a large model's built files carry a quarter of a million locations from
        # the parse workers (and into the cache), and the default form (a new object, then its attribute
        # dict, key by key) took 40 % of pickling them and half of unpickling them.
        return make_location, (self.file, self.line, self.col, self.end_line, self.end_col)


def make_location(file: str, line: int, col: int, end_line: int, end_col: int) -> Location:
    """Location(file, line, col, end_line, end_col) without the frozen dataclass's __init__, which sets each
    field through object.__setattr__: a large model makes a quarter of a million of them (about 0.3 s of
    CPU at 10,000 component types). Same fields in the same order, so equal, hashed and pickled alike
    (tests/unit/test_loader.py)."""
    loc = _new(Location)
    _setattr(loc, "__dict__", {"file": file, "line": line, "col": col, "end_line": end_line, "end_col": end_col})
    return loc


_new = object.__new__
_setattr = object.__setattr__


# -- hidden text (Trojan Source) -----------------------------------------------------------------------------
# Characters that change how text looks without being seen: bidi controls (U+202A-U+202E, U+2066-U+2069),
# zero-width ones (U+200B-U+200F, U+2060-U+2064, U+FEFF), line/paragraph separators (U+2028/U+2029), every
# other format (Cf) character and every control (Cc) character but tab and newline. Written out as ranges
# because computing them from unicodedata costs a scan of all 1.1 M code points at start-up;
# tests/unit/test_hidden_text.py recomputes the set from unicodedata so a newer Unicode cannot slip past.
# Compiled on first use (about 0.9 ms: `sops fta` start-up); `HIDDEN` is the compiled pattern.
_HIDDEN_PATTERN = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_hidden: list[re.Pattern[str]] = []
TYPE_CHECKING = False  # typing itself is not imported at run time
if TYPE_CHECKING:
    HIDDEN: re.Pattern[str]


def _hidden_re() -> re.Pattern[str]:
    if not _hidden:
        _hidden.append(re.compile(_HIDDEN_PATTERN))
    return _hidden[0]


def __getattr__(name: str) -> object:
    if name == "HIDDEN":
        return _hidden_re()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def hidden_name(ch: str) -> str:
    """`U+202E`: how a hidden character is named wherever it is shown."""
    return f"U+{ord(ch):04X}"


def show_hidden(text: str, open_: str = "<", close: str = ">") -> str:
    """`text` with every hidden character written as `<U+XXXX>`, so what a reviewer reads is what the
    model says. `open_`/`close` let markup outputs pass the brackets already escaped."""
    if text.isprintable():  # the common case, decided in C: hidden characters are all non-printable
        return text
    return _hidden_re().sub(lambda m: f"{open_}{hidden_name(m.group())}{close}", text)


def _json_escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON has no escape above the BMP: a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_hidden(text: str) -> str:
    """JSON text (from json.dumps(..., ensure_ascii=False)) with every hidden character written as a `\\u`
    escape: a JSON reader gets the exact text back, the file shows no raw control. Outside strings JSON
    has no such characters, so the whole document can be passed."""
    return _hidden_re().sub(_json_escape, text)


@dataclass(frozen=True)
class CodeInfo:
    """A stable diagnostic code, its default severity and its title (the registry below)."""

    code: str
    severity: Severity
    title: str


# The registry of stable codes. Never renumber; retire a code by leaving it here unused.
_CODES: dict[str, CodeInfo] = {}


def _code(code: str, severity: Severity, title: str) -> str:
    _CODES[code] = CodeInfo(code, severity, title)
    return code


E, W = Severity.ERROR, Severity.WARNING
# -- loading and syntax ---------------------------------------------------------------------------------
SYNTAX = _code("SOPS001", E, "syntax error")
UNREADABLE = _code("SOPS002", E, "file cannot be read")
IMPORT_NOT_FOUND = _code("SOPS003", E, "imported file not found")
IMPORT_ESCAPES_ROOT = _code("SOPS004", E, "import leaves the model root")
IMPORT_CYCLE = _code("SOPS005", E, "import cycle")
NO_INPUT = _code("SOPS006", E, "no .sops files found")
OUTPUT_REFUSED = _code("SOPS007", E, "output path refused")
HIDDEN_TEXT = _code("SOPS014", W, "hidden character (bidi control or invisible character) in the text")
LIMIT_EXCEEDED = _code("SOPS008", E, "a resource limit was exceeded")
BAD_VALUE = _code("SOPS009", E, "invalid value")
COUNTED_ONLY = _code("SOPS015", W, "P(top) by model counting alone: cut sets and importance not computed")
NO_COUNTER = _code("SOPS016", E, "the model counter (pyganak) is not installed")
# -- names ------------------------------------------------------------------------------------------------
DUPLICATE = _code("SOPS010", E, "duplicate definition")
UNKNOWN_NAME = _code("SOPS011", E, "unknown name")
WRONG_KIND = _code("SOPS012", E, "reference to the wrong kind of element")
AMBIGUOUS_NAME = _code("SOPS013", E, "ambiguous name")
# -- structure --------------------------------------------------------------------------------------------
CONNECTION_DIRECTION = _code("SOPS020", E, "connection in the wrong direction")
UNKNOWN_PORT = _code("SOPS021", E, "unknown port")
MULTIPLE_DRIVERS = _code("SOPS022", E, "input port driven by more than one connection")
UNCONNECTED_INPUT = _code("SOPS023", W, "input port of a part is not connected")
HIERARCHY_CYCLE = _code("SOPS024", E, "component contains itself")
NO_SYSTEM = _code("SOPS025", E, "no system to resolve against")
UNDRIVEN_OUTPUT = _code("SOPS026", W, "output port of a composite is not driven by any part")
# -- failure logic ----------------------------------------------------------------------------------------
NO_FAILURE_LOGIC = _code("SOPS030", W, "output deviation with no failure logic")
LOGIC_BAD_PORT = _code("SOPS031", E, "failure logic names a port the component does not have")
UNKNOWN_DEVIATION = _code("SOPS032", E, "unknown deviation type")
UNREACHABLE_FAILURE = _code("SOPS033", W, "failure mode is used by no failure logic")
BAD_K_OF_N = _code("SOPS034", E, "k-of-n with k out of range")
LOGIC_CYCLE = _code("SOPS035", W, "failure logic loops through a feedback path")
DUPLICATE_LOGIC = _code("SOPS036", E, "two failure-logic rules for one output deviation")
BAD_RATE = _code("SOPS037", E, "failure rate or probability out of range")
LOGIC_ON_INPUT = _code("SOPS038", E, "failure logic assigned to an input port")
DEVIATION_CYCLE = _code("SOPS039", E, "deviation type refines itself")
# -- mechanisms, ML -----------------------------------------------------------------------------------------
BAD_COVERAGE = _code("SOPS040", E, "diagnostic coverage out of range")
BAD_CCF = _code("SOPS041", E, "common-cause (CCF) group cannot be quantified")
CCF_UNEQUAL_MEMBERS = _code("SOPS042", E, "members of a CCF group fail with different probabilities")
ML_NO_METRIC = _code("SOPS050", W, "ML component with no metric threshold")
ML_NO_VERIFICATION_DATA = _code("SOPS051", W, "ML component with no verification dataset")
BAD_HASH = _code("SOPS052", E, "malformed hash")
ML_NO_MODEL = _code("SOPS053", W, "ML component with no model identity")
# -- hazards, goals, requirements, ASIL ---------------------------------------------------------------------
ASIL_MISMATCH = _code("SOPS060", E, "typed ASIL disagrees with the derived one")
HAZARD_NO_GOAL = _code("SOPS061", E, "hazard mitigated by no safety goal")
GOAL_NO_REQUIREMENT = _code("SOPS062", W, "safety goal refined by no requirement")
REQUIREMENT_UNALLOCATED = _code("SOPS063", W, "requirement allocated to nothing")
GOAL_ASIL_MISMATCH = _code("SOPS064", E, "safety goal ASIL disagrees with its hazards")
REQUIREMENT_ASIL_TOO_LOW = _code("SOPS065", E, "requirement ASIL lower than its parent's")
DECOMPOSITION_SUM = _code("SOPS066", E, "ASIL decomposition does not add up to the parent")
DECOMPOSITION_BASE = _code("SOPS067", E, "ASIL decomposition names another ASIL than the parent's")
DECOMPOSITION_INDEPENDENCE = _code("SOPS068", W, "decomposed requirements allocated to the same element")
HAZARD_NOT_BOUNDARY = _code("SOPS069", E, "hazard condition does not name a system output")
HAZARD_NO_CONDITION = _code("SOPS070", W, "hazard has no condition, so no fault tree")
BAD_TARGET = _code("SOPS071", E, "quantitative target out of range")
REFINEMENT_CYCLE = _code("SOPS072", E, "requirements refine each other in a cycle")
BAD_CLASS = _code("SOPS073", E, "severity, exposure or controllability class out of range")
MISSING_CLASSIFICATION = _code("SOPS074", E, "hazard lacks severity, exposure or controllability")
GOAL_NO_HAZARD = _code("SOPS075", W, "safety goal mitigates no hazard")
# -- evidence and arguments ----------------------------------------------------------------------------------
EVIDENCE_NO_TARGET = _code("SOPS080", W, "evidence verifies nothing")
EVIDENCE_BAD_METRIC = _code("SOPS081", E, "metric evidence names no metric threshold of the model")
GSN_BAD_RELATION = _code("SOPS090", E, "GSN relation not allowed between these element types")
GSN_CYCLE = _code("SOPS091", E, "GSN argument has a cycle")
# SOPS092-099: the merged safety case (sops gsn), checked against the GSN Community Standard v3
GSN_MODULE_ROOTS = _code("SOPS092", E, "GSN module without exactly one root goal")
GSN_NOT_DEVELOPED = _code("SOPS093", W, "GSN goal or strategy neither supported nor marked undeveloped")
GSN_UNDEVELOPED_SUPPORTED = _code("SOPS094", W, "GSN element marked undeveloped is supported")
GSN_DUPLICATE_ID = _code("SOPS095", E, "GSN id used twice in the merged safety case")
GSN_NO_ATTACH_POINT = _code("SOPS096", E, "attach_to names an element with no node in the generated safety case")
GSN_DANGLING = _code("SOPS097", W, "GSN context, assumption or justification is the context of nothing")
GSN_AWAY_GOAL = _code("SOPS098", E, "away goal cannot be resolved")
GSN_TOP_NOT_SUPPORTED = _code("SOPS099", W, "top goal of the safety case is not fully supported")
# -- trace, evidence from CI and the coverage policy (sops trace) -------------------------------------------
# SOPS100-105: violations of the coverage policy, one code per rule. They are warnings in the report and errors
# under `sops trace --gate`, so a waived rule (policy { waive RULE "reason" }) never reports them.
POLICY_HAZARD_GOAL = _code("SOPS100", W, "coverage policy: hazard mitigated by no safety goal")
POLICY_GOAL_REQUIREMENT = _code("SOPS101", W, "coverage policy: safety goal refined by no requirement")
POLICY_REQUIREMENT_ALLOCATION = _code("SOPS102", W, "coverage policy: requirement allocated to nothing")
POLICY_REQUIREMENT_EVIDENCE = _code("SOPS103", W, "coverage policy: requirement verified by no evidence")
POLICY_EVIDENCE_PASSING = _code("SOPS104", W, "coverage policy: requirement not verified by passing, current evidence")
POLICY_ML_METRIC_EVIDENCE = _code("SOPS105", W, "coverage policy: ML metric threshold with no metric evidence")
EVIDENCE_STALE = _code("SOPS106", W, "evidence is stale: its pinned artifact or commit changed")
EVIDENCE_FAILED = _code("SOPS107", W, "evidence failed: test failed or metric misses its threshold")
EVIDENCE_MISSING = _code("SOPS108", W, "evidence has no result in the CI results")
EVIDENCE_SKIPPED = _code("SOPS109", W, "evidence test was skipped")
METRIC_RESULT_TYPE = _code("SOPS110", E, "metric result is not a number")
POLICY_WAIVER_REASON = _code("SOPS111", E, "policy waiver without a reason")
POLICY_CONFLICT = _code("SOPS112", E, "policy rule both required and waived")
# -- standard profiles (model/profiles): the standard a package is analysed against ------------------------
UNKNOWN_STANDARD = _code("SOPS140", E, "unknown standard")
STANDARD_CONFLICT = _code("SOPS141", E, "package declares two standards")
NOT_IN_STANDARD = _code("SOPS142", E, "attribute not used by the package's standard")
CLASS_OF_OTHER_STANDARD = _code("SOPS143", E, "class or level not on the standard's scale")
NO_DEMAND_MODE = _code("SOPS144", E, "safety function without a demand mode")
BAD_RISK_MATRIX = _code("SOPS145", E, "risk matrix malformed or missing")
BAD_LOPA = _code("SOPS146", E, "layer of protection analysis out of range")
MISSING_PROFILE_CLASS = _code("SOPS147", E, "hazard lacks the classification its standard needs")
BAD_RISK_GRAPH = _code("SOPS148", E, "risk graph malformed")
RISK_GRAPH_INCOMPLETE = _code("SOPS149", E, "risk graph incomplete or ambiguous")
BAD_RISK_GRAPH_CLASSES = _code("SOPS150", E, "hazard's risk-graph classes do not fit the graph")
SIL_BELOW_DERIVED = _code("SOPS151", E, "stated SIL below the SIL the risk graph derives")
SIL_ABOVE_DERIVED = _code("SOPS152", W, "stated SIL above the SIL the risk graph derives")
RISK_GRAPH_BEYOND = _code("SOPS153", W, "risk graph outcome b: a single E/E/PE system is not sufficient")
BAD_DAL_TABLE = _code("SOPS154", E, "FDAL/IDAL reduction table malformed")
BAD_FFS = _code("SOPS155", E, "functional failure set malformed")
DAL_BELOW_TOP = _code("SOPS156", E, "member below the top-level FDAL without independence")
DAL_NO_OPTION = _code("SOPS157", E, "FDAL/IDAL assignment matches no reduction option")
DAL_TWO_LEVELS = _code("SOPS158", E, "member assigned two different levels")
# SOPS160-179: reliability models (parameters, proof tests, demand, uncertainty)
PARAMETER_CYCLE = _code("SOPS160", E, "parameter defined in terms of itself")
UNIT_MISMATCH = _code("SOPS161", E, "quantity expression with mismatched units")
PARAMETER_UNDEFINED_VALUE = _code("SOPS162", E, "quantity expression has no finite value")
PROOF_TEST_BEYOND_MISSION = _code("SOPS163", E, "proof-test interval longer than the mission time")
BAD_PROOF_TEST = _code("SOPS164", E, "invalid proof test or repair time")
BAD_ASSUMPTION = _code("SOPS165", E, "assumption about something that is not a system input")
BAD_DISTRIBUTION = _code("SOPS166", E, "impossible uncertainty distribution")
HISTOGRAM_BOUNDARIES = _code("SOPS167", E, "histogram bin boundaries not increasing")
HISTOGRAM_WEIGHTS = _code("SOPS168", E, "histogram weight negative or weights summing to zero")
HISTOGRAM_DOMAIN = _code("SOPS169", E, "histogram outside the domain of the value it spreads")
UNKNOWN_FLIGHT_PHASE = _code("SOPS170", E, "failure condition names a flight phase the operating profile lacks")
AT_RISK_BEYOND_FLIGHT = _code("SOPS171", E, "at-risk time of a failure condition longer than the flight")
# SOPS120-139: the ODD as data, data coverage, SOTIF (ISO 21448) and the ML safety case
ODD_VALUE_OUTSIDE_DOMAIN = _code("SOPS120", E, "ODD attribute value outside its declared domain")
ODD_DUPLICATE_ATTRIBUTE = _code("SOPS121", E, "ODD attribute declared twice")
ODD_UNKNOWN_ATTRIBUTE = _code("SOPS122", E, "slice or triggering condition names an unknown ODD attribute")
ODD_UNKNOWN_VALUE = _code("SOPS123", E, "slice or triggering condition value outside the attribute's domain")
ODD_SLICE_OUTSIDE = _code("SOPS124", W, "metric slice lies outside the ODD")
ODD_NO_ATTRIBUTES = _code("SOPS125", E, "slice or triggering condition with no structured ODD in scope")
ACCEPTANCE_NO_UNIT = _code("SOPS126", E, "acceptance criterion without a unit")
ACCEPTANCE_BAD_VALUE = _code("SOPS127", E, "acceptance rate or confidence out of range")
COVERAGE_MANIFEST_UNREADABLE = _code("SOPS128", E, "coverage manifest cannot be read or is malformed")
COVERAGE_MANIFEST_DIGEST = _code("SOPS129", E, "coverage manifest does not match the data set's digest")
ODD_CELL_THIN = _code("SOPS130", W, "ODD cell with no or too few samples in a verification data set")
METRIC_SLICES_PARTIAL = _code("SOPS131", W, "metric evidenced on only some slices of an ODD attribute")
VALIDATION_TARGET_NOT_MET = _code("SOPS132", W, "validation exposure below the SOTIF validation target")
TRIGGER_REVEALS_UNKNOWN = _code("SOPS133", E, "trigger reveals no failure mode of its component")
ACCEPTANCE_MISSING = _code("SOPS134", W, "hazard with an ML contribution has no SOTIF acceptance criterion")
# -- exchange formats ----------------------------------------------------------------------------------------
XML_ERROR = _code("SOPS200", E, "malformed XML")
OPENPSA_ERROR = _code("SOPS201", E, "invalid Open-PSA model")
RESULTS_ERROR = _code("SOPS202", E, "unreadable CI result file")
# SOPS260-269: ReqIF exchange (sops reqif export / import)
REQIF_MALFORMED = _code("SOPS260", E, "ReqIF file refused: not well-formed, unsafe or too large")
REQIF_SCHEMA = _code("SOPS261", E, "ReqIF file does not conform to the ReqIF 1.2 schema")
REQIF_NO_ID = _code("SOPS262", E, "ReqIF requirement without a usable sops name")
REQIF_COLLISION = _code("SOPS263", E, "ReqIF id collides with another object or model element")
REQIF_UNKNOWN_REF = _code("SOPS264", E, "ReqIF relation names an element that is neither in the file nor in the model")
REQIF_BREAKS_MODEL = _code("SOPS265", E, "the imported requirements would not check")
REQIF_NOT_IMPORTED = _code("SOPS266", W, "ReqIF change to a hazard or safety goal not imported")
REQIF_REQUIREMENT_ABSENT = _code("SOPS267", W, "model requirement absent from the ReqIF file (kept)")
REQIF_LINE_BREAK = _code("SOPS268", E, "text with a line break cannot be exported to a ReqIF string attribute")
# -- documentation builds (Sphinx extension, MkDocs plugin) -----------------------------------------------
DOCS_UNKNOWN_ID = _code("SOPS250", E, "docs: a block or role names an element the model does not have")
DOCS_NO_MODEL = _code("SOPS251", E, "docs: the model folder is not set or does not exist")
DOCS_BAD_BLOCK = _code("SOPS252", E, "docs: a block's arguments do not fit the model")
DOCS_NOT_RENDERED = _code("SOPS253", W, "docs: a role links an element that no block renders")

# -- fault-injection campaigns (sops inject, --campaign-results) -------------------------------------------------
INJECTION_RESULTS_ERROR = _code("SOPS230", E, "unreadable or invalid fault-injection results")
INJECTION_UNKNOWN_CASE = _code("SOPS231", E, "fault-injection result for a case the campaign does not have")
INJECTION_DUPLICATE_CASE = _code("SOPS232", E, "fault-injection case reported twice")
INJECTION_CLAIM_UNSUPPORTED = _code("SOPS233", W, "claimed diagnostic coverage not supported by the fault-injection campaign")
INJECTION_NO_RESULTS = _code("SOPS234", W, "mechanism an ASIL B+ goal relies on has no fault-injection results")

# -- MLflow and DVC (the Ops in SafetyOps: evidence from the ML and data pipelines) ----------------------------
MLFLOW_URI = _code("SOPS210", E, "MLflow tracking URI cannot be used")
MLFLOW_UNREACHABLE = _code("SOPS211", E, "MLflow tracking server unreachable")
MLFLOW_VERSION = _code("SOPS212", E, "model version not found in the MLflow model registry")
MLFLOW_NO_METRICS = _code("SOPS213", E, "MLflow run of a model version has no metrics")
DVC_NOT_A_REPO = _code("SOPS220", E, "DVC pin outside a DVC repository")
DVC_FILE = _code("SOPS221", E, "unreadable DVC file")
DVC_NOT_FOUND = _code("SOPS222", E, "DVC pin names no file or output")
del E, W


def code_info(code: str) -> CodeInfo:
    return _CODES[code]


def all_codes() -> list[CodeInfo]:
    return [_CODES[c] for c in sorted(_CODES)]


@dataclass(frozen=True)
class Diagnostic:
    """One message about the input, at a location, with an optional hint."""

    code: str
    message: str
    location: Location
    hint: str = ""
    severity: Severity | None = None  # None: the code's own severity

    @property
    def level(self) -> Severity:
        return self.severity or _CODES[self.code].severity

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.file, self.location.line, self.location.col, self.code, self.message)


def make(code: str, message: str, location: Location, hint: str = "") -> Diagnostic:
    if code not in _CODES:
        raise KeyError(f"unregistered diagnostic code {code}")
    return Diagnostic(code, message, location, hint)


def promote_warnings(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: every warning becomes an error (same code, same message)."""
    out = []
    for d in diags:
        if d.level is Severity.WARNING:
            d = Diagnostic(d.code, d.message, d.location, d.hint, Severity.ERROR)
        out.append(d)
    return out


def sort_unique(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.code, d.message, d.location, d.level)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def count(diags: Sequence[Diagnostic]) -> tuple[int, int]:
    errors = sum(1 for d in diags if d.level is Severity.ERROR)
    warnings = sum(1 for d in diags if d.level is Severity.WARNING)
    return errors, warnings


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.level is Severity.ERROR for d in diags)


MAX_SHOWN = 1000  # characters of a message or hint shown on a terminal; a 1 MB name stays readable


def _clip(text: str) -> str:
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:MAX_SHOWN]}... ({len(text) - MAX_SHOWN} more characters)"


def _shown(text: str) -> str:
    """Source text as a terminal shows it: hidden characters written out, tabs as 4-column stops."""
    return show_hidden(text).expandtabs(4)


def _excerpt(loc: Location, source_lines: Sequence[str]) -> list[str]:
    """The source line of `loc` with its span underlined (`^^^`); a span over several lines is underlined to
    the end of its first line. Columns are counted in the text as shown (tabs expanded, hidden characters
    written out), so the underline stays under the characters it means."""
    raw = source_lines[loc.line - 1].rstrip("\r\n")
    text = _shown(raw)
    start = len(_shown(raw[: max(loc.col - 1, 0)])) + max(loc.col - 1 - len(raw), 0)  # past the end: as given
    if loc.has_span and loc.end_line == loc.line:
        end = len(_shown(raw[: loc.end_col - 1]))
    elif loc.has_span:
        end = len(text.rstrip())
    else:
        end = start + 1
    end = max(end, start + 1)
    if len(text) > 200:  # very long lines: show a window around the column
        window = max(0, start - 100)
        text = text[window : window + 200]
        start, end = start - window, min(end - window, len(text) + 1)
        end = max(end, start + 1)
    gutter = str(loc.line)
    return [f" {gutter} | {text}", f" {' ' * len(gutter)} | {' ' * start}{'^' * (end - start)}"]


def render_one(d: Diagnostic, source_lines: Sequence[str] | None = None, brief: bool = False) -> str:
    head = f"{d.location}: {d.level.value}[{d.code}]: {show_hidden(_clip(d.message))}"
    if brief:
        return head
    parts = [head]
    loc = d.location
    if source_lines is not None and 0 < loc.line <= len(source_lines):
        parts.extend(_excerpt(loc, source_lines))
    if d.hint:
        parts.append(f"hint: {show_hidden(_clip(d.hint))}")
    return "\n".join(parts)


def summary(diags: Sequence[Diagnostic], files: int) -> str:
    errors, warnings = count(diags)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(files, 'file')} checked: {plural(errors, 'error')}, {plural(warnings, 'warning')}"


def end_fields(loc: Location) -> dict[str, int]:
    """`end_line` and `end_col` of a span for JSON outputs; nothing for a point location."""
    return {"end_line": loc.end_line, "end_col": loc.end_col} if loc.has_span else {}


def to_json(diags: Sequence[Diagnostic], files: int) -> str:
    errors, warnings = count(diags)
    doc = {
        "schema": schemas.tag("sops-diagnostics"),
        "diagnostics": [
            {
                "file": d.location.file,
                "line": d.location.line,
                "col": d.location.col,
                **end_fields(d.location),
                "severity": d.level.value,
                "code": d.code,
                "message": d.message,
                **({"hint": d.hint} if d.hint else {}),
            }
            for d in diags
        ],
        "summary": {"files": files, "errors": errors, "warnings": warnings},
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


class DiagnosticError(Exception):
    """Raised by loaders to abort with diagnostics already made (caught by the CLI, never shown as a traceback)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(f"{d.location}: {d.message}" for d in diagnostics))
        self.diagnostics = list(diagnostics)
