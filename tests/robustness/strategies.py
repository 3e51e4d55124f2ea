"""Hypothesis strategies that write grammar-shaped `.sops` text (grammar/sops.tx).

`models()` builds a whole one-file model: deviations, component types with ports, failure modes (rates,
probabilities, safe fractions, AIAG ratings), mechanisms, failure logic with nested and/or/k-of-n, a system
with parts and connections, hazards with conditions, safety goals, requirements (with ASIL decompositions),
evidence, a GSN argument and a coverage policy. Names are drawn from small pools so that references mostly
resolve and a good share of the models is valid (and then reaches synthesis and the engine); the rest are
near misses that must produce diagnostics. `near_miss()` then damages a model at the token level: keyword
typos, dropped or doubled tokens, reserved words as names, stray punctuation, odd numbers.
"""

from __future__ import annotations

from hypothesis import strategies as st

IN_PORTS = ("a", "b", "c")
OUT_PORTS = ("o", "p")
DEVIATIONS = ("omission", "commission", "value", "late", "value.high", "value.low")
FAILURES = ("F0", "F1", "F2", "F3")
TYPES = ("T0", "T1", "T2")
PARTS = ("u0", "u1", "u2", "u3")
KEYWORDS = (
    "component", "system", "ml_component", "in", "out", "failure", "trigger", "rate", "probability", "FIT",
    "mechanism", "monitor", "covers", "coverage", "or", "and", "of", "part", "parts", "connect", "hazard",
    "safety_goal", "requirement", "evidence", "argument", "policy", "when", "refines", "allocated_to", "asil",
    "package", "import", "deviation", "propagate", "mission_time", "goal", "supports", "verifies",
)
WEIRD_NUMBERS = ("0", "-1", "1e308", "1e-320", "1e999", "00", "3.", ".5", "99999999999999999999", "100", "1e-9")

ident = st.sampled_from(("x", "_", "A1", "foo_bar", "Z" * 40, "r\u00e9sum\u00e9"))


def _string_chars() -> st.SearchStrategy[str]:
    # Strings: anything but an unescaped quote or newline (the grammar's STRING is textX's default).
    return st.text(
        alphabet=st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs",)), max_size=30
    )


def _clean_chars() -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")), max_size=30)


# Mostly printable text; one string in ten may hold control characters (NUL included: SOPS002).
strings = st.one_of(_clean_chars(), _clean_chars(), _clean_chars(), _clean_chars(), _clean_chars(), _clean_chars(),
                    _clean_chars(), _clean_chars(), _clean_chars(), _string_chars()).map(lambda s: f'"{s}"')


def rare(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`good` nine times in ten: keeps most models valid while still reaching the error paths."""
    # Hypothesis leans towards small integers, so the rare branch is a middle value, not 0.
    return st.integers(0, 9).flatmap(lambda i: bad if i == 5 else good)
rates = st.sampled_from(("0", "1", "10", "2.5", "1000", "1e3", "0.001"))
percents = st.sampled_from(("0", "50", "60", "90", "99", "100"))


def atom(failures: tuple[str, ...], inputs: tuple[str, ...]) -> st.SearchStrategy[str]:
    refs = list(failures) + [f"{i}.{d}" for i in inputs for d in DEVIATIONS[:4]]
    return st.sampled_from(refs or ["NoSuchFailure"])


def expr(failures: tuple[str, ...], inputs: tuple[str, ...], max_leaves: int = 12) -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=4).map(lambda xs: " or ".join(xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: " and ".join(f"({x})" for x in xs)),
            children.map(lambda x: f"({x})"),
            st.lists(children, min_size=1, max_size=4).flatmap(
                lambda xs: rare(st.integers(1, len(xs)).map(str), st.sampled_from(("0", str(len(xs) + 1))))
                .map(lambda k: f"{k} of ({', '.join(xs)})")
            ),
        )

    return st.recursive(atom(failures, inputs), extend, max_leaves=max_leaves)


@st.composite
def component(draw: st.DrawFn, name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    kind = draw(st.sampled_from(("component", "component", "ml_component")))
    ins = tuple(draw(st.lists(st.sampled_from(IN_PORTS), unique=True, max_size=3)))
    outs = tuple(draw(st.lists(st.sampled_from(OUT_PORTS), unique=True, min_size=1, max_size=2)))
    fails = tuple(draw(st.lists(st.sampled_from(FAILURES), unique=True, max_size=4)))
    lines = [f"{kind} {name} {draw(strings)} {{"]
    if ins:
        lines.append(f"    in  {', '.join(ins)}")
    lines.append(f"    out {', '.join(outs)}")
    if kind == "ml_component":
        lines.append('    model "m" version "1.0"')
        lines.append(f'    dataset verification "d" sha256 "{draw(rare(st.just("ab" * 32), st.just("ab" * 8)))}"')
        lines.append(f"    metric recall.{name.lower()} >= {draw(st.sampled_from(('0.9', '0.99', '1')))}")
    for f in fails:
        fkind = draw(st.sampled_from(("failure", "failure", "trigger")))
        if draw(st.booleans()):
            q = f"rate {draw(rates)} {draw(st.sampled_from(('FIT', 'per hour', '/h')))}"
        else:
            q = f"probability {draw(st.sampled_from(('0', '0.5', '1', '1e-6')))}"
        attrs = []
        if draw(st.booleans()):
            attrs.append(draw(strings))
        if draw(st.integers(0, 4)) == 0:
            attrs.append(f"safe {draw(percents)} %")
        if draw(st.integers(0, 5)) == 0:
            attrs.append(f"exposure {draw(st.sampled_from(('1 h', '10 min', '2 d')))}")
        if draw(st.integers(0, 5)) == 0:
            s, o, d = (draw(rare(st.integers(1, 10).map(str), st.sampled_from(("0", "11")))) for _ in range(3))
            attrs.append(f"aiag severity {s} occurrence {o} detection {d}")
        lines.append(f"    {fkind} {f} {q} {' '.join(attrs)}".rstrip())
    if fails and draw(st.booleans()):
        covered = draw(st.lists(st.sampled_from(fails), unique=True, min_size=1, max_size=2))
        latent = f" latent coverage {draw(percents)} %" if draw(st.booleans()) else ""
        lines.append(f"    mechanism M{name} covers {', '.join(covered)} coverage {draw(percents)} %{latent}")
    for out in outs if (fails or ins or draw(st.integers(0, 9)) == 5) else ():
        for dev in draw(st.lists(st.sampled_from(DEVIATIONS), unique=True, max_size=3)):
            lines.append(f"    {out}.{dev} <- {draw(expr(fails, ins))}")
    lines.append("}")
    return "\n".join(lines), ins, outs


@st.composite
def system(draw: st.DrawFn, types: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> tuple[str, tuple[str, ...]]:
    names = sorted(types)
    parts = draw(st.lists(st.tuples(st.sampled_from(PARTS), st.sampled_from(names)), unique_by=lambda p: p[0],
                          min_size=1, max_size=4))
    outs = tuple(draw(st.lists(st.sampled_from(OUT_PORTS), unique=True, min_size=1, max_size=2)))
    ins = tuple(draw(st.lists(st.sampled_from(IN_PORTS), unique=True, max_size=1)))
    lines = [f"system S {draw(strings)} {{"]
    if ins:
        lines.append(f"    in  {', '.join(ins)}")
    lines.append(f"    out {', '.join(outs)}")
    for pname, ptype in parts:
        lines.append(f"    part {pname} : {ptype}")
    sources = [f"{p}.{o}" for p, t in parts for o in types[t][1]] + list(ins)
    sinks = [f"{p}.{i}" for p, t in parts for i in types[t][0]] + list(outs)
    # Mostly a sensible wiring: every sink driven once; sometimes a random (possibly wrong) extra wire.
    for sink in sinks:
        if sources and draw(st.integers(0, 5)) > 0:
            lines.append(f"    connect {draw(st.sampled_from(sources))} -> {sink}")
    if draw(st.integers(0, 9)) == 5 and sources:
        lines.append(f"    connect {draw(st.sampled_from(sinks))} -> {draw(st.sampled_from(sources))}")
    lines.append("}")
    return "\n".join(lines), outs


def hazard_condition(outs: tuple[str, ...]) -> st.SearchStrategy[str]:
    refs = [f"{o}.{d}" for o in outs for d in DEVIATIONS[:4]]

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda xs: " or ".join(xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: " and ".join(f"({x})" for x in xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: f"1 of ({', '.join(xs)})"),
        )

    return st.recursive(st.sampled_from(refs), extend, max_leaves=4)


CLASSES = st.tuples(rare(st.sampled_from(("S0", "S1", "S2", "S3")), st.just("S4")),
                    st.sampled_from(("E0", "E1", "E2", "E3", "E4")),
                    rare(st.sampled_from(("C0", "C1", "C2", "C3")), st.just("C9")))
ASILS = st.sampled_from(("QM", "A", "B", "C", "D", "B(D)", "A(D)", "C(D)", "QM(D)", "D(D)"))


@st.composite
def safety_part(draw: st.DrawFn, outs: tuple[str, ...], parts: tuple[str, ...], metrics: list[str]) -> str:
    lines: list[str] = []
    n_haz = int(draw(rare(st.integers(1, 3).map(str), st.just("0"))))
    hazards = [f"H{i}" for i in range(n_haz)]
    for h in hazards:
        s, e, c = draw(CLASSES)
        lines += [
            f"hazard {h} {draw(strings)} {{",
            f"    situation {draw(strings)}",
            f"    severity {s} exposure {e} controllability {c}",
            f"    when {draw(hazard_condition(outs))}",
            "}",
        ]
    goals = []
    for i, h in enumerate(hazards):
        if draw(st.integers(0, 9)) > 0:
            g = f"SG{i}"
            goals.append(g)
            target = f"    target {draw(rare(st.sampled_from(('1e-7', '1e-9')), st.just('1')))} per h\n" if draw(st.booleans()) else ""
            lines.append(f'safety_goal {g} {draw(strings)} mitigates {h} {{\n    safe_state "off"\n'
                         f"    ftti {draw(rare(st.sampled_from(('50 ms', '1 s')), st.just('0 ms')))}\n{target}}}")
    reqs = []
    for i in range(draw(st.integers(0, 3))):
        r = f"R{i}"
        parent = draw(st.sampled_from(goals + reqs)) if (goals or reqs) else None
        alloc = draw(st.sampled_from(parts)) if parts else None
        line = f"requirement {r} {draw(strings)}"
        if parent:
            line += f" refines {parent}"
        if alloc:
            line += f" allocated_to {alloc}"
        if parent or draw(st.booleans()):
            line += f" asil {draw(rare(st.just('D'), ASILS))}"
        lines.append(line)
        reqs.append(r)
    for i, target in enumerate(draw(st.lists(st.sampled_from(reqs + goals), max_size=3)) if reqs + goals else []):
        kind = draw(st.sampled_from(("test", "analysis", "review", "metric", "inspection")))
        if kind == "metric":
            src = draw(rare(st.sampled_from(metrics), strings)) if metrics else '"recall.t0"'
        else:
            src = '"tests/test_x.py::test_y"' if kind == "test" else draw(strings)
        line = f"evidence E{i} {kind} {src} verifies {target}"
        if draw(st.integers(0, 3)) == 0:
            line += f' artifact "{draw(st.sampled_from(("a.txt", "../outside.txt", "/etc/passwd", "sub/x")))}"'
        if draw(st.integers(0, 4)) == 0:
            line += ' commit "deadbeef"'
        lines.append(line)
    if draw(st.integers(0, 3)) == 0:
        sol = " evidence E0" if "evidence E0 " in "\n".join(lines) or draw(st.integers(0, 9)) == 5 else ""
        lines.append('argument A "arg" {\n    goal G0 "top" \n    strategy St "s" supports G0\n'
                     f'    goal G1 "sub" supports St undeveloped\n    solution Sn "sol" supports G1{sol}\n}}')
    if draw(st.integers(0, 3)) == 0:
        rule = draw(rare(st.sampled_from(("hazard_goal", "goal_requirement", "requirement_allocation",
                                          "requirement_evidence", "evidence_passing", "ml_metric_evidence")),
                         st.just("bogus_rule")))
        mode = draw(st.sampled_from(("require", "waive")))
        lines.append(f'policy {{\n    {mode} {rule} "because"\n}}')
    return "\n".join(lines)


@st.composite
def models(draw: st.DrawFn) -> str:
    """A one-file model in the language; valid more often than not, always grammar-shaped."""
    out = ["package fz", ""]
    if draw(st.booleans()):
        out.append(f"mission_time {draw(rare(st.sampled_from(('1 h', '10 h', '1 y')), st.just('0 h')))}")
    if draw(st.integers(0, 9)) > 0:
        out.append('deviation value.high refines value "too high"')
        out.append('deviation value.low refines value "too low"')
    types: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for name in TYPES[: draw(st.integers(1, len(TYPES)))]:
        text, ins, outs = draw(component(name))
        types[name] = (ins, outs)
        out.append(text)
    sys_text, sys_outs = draw(system(types))
    out.append(sys_text)
    parts = tuple(p for p in PARTS if f"part {p} " in sys_text)
    metrics = [f'"recall.{t.lower()}"' for t in types if f"recall.{t.lower()}" in "\n".join(out)]
    out.append(draw(safety_part(sys_outs, parts, metrics)))
    return "\n".join(out) + "\n"


NEAR_MISS_TOKENS = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(("compnent", "falure", "hazzard", "rate", "FIT", "<-", "->", "{", "}", "(", ")", ",", ":",
                     "%", '"', "/*", "*/", "//", "..", "a..b", "1 of", "of (", "per h", "\\", "\t", "\u202e",
                     "\ufeff", "\u00a0")),
    st.sampled_from(WEIRD_NUMBERS),
    ident,
)


@st.composite
def near_miss(draw: st.DrawFn, base: st.SearchStrategy[str] | None = None) -> str:
    """A model damaged at the token level (1-3 edits): what a user mid-edit or a bad merge produces."""
    text = draw(base if base is not None else models())
    tokens = text.split(" ")
    for _ in range(draw(st.integers(1, 3))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(("replace", "insert", "delete", "duplicate", "swap")))
        if op == "replace":
            tokens[i] = draw(NEAR_MISS_TOKENS)
        elif op == "insert":
            tokens.insert(i, draw(NEAR_MISS_TOKENS))
        elif op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    return " ".join(tokens)
