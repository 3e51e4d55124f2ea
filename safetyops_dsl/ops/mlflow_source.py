"""Metric evidence from MLflow: `--mlflow URI` (or MLFLOW_TRACKING_URI) on trace, gate, build and diff.

Every ML component with `model "NAME" version "V"` names the registered model NAME; V is one of its version
numbers, one of its aliases, or the value of a version's tag `version` (tried in that order). The version's
source run gives the metric values (MLflow's latest value of each key) and the datasets it was measured on
(its inputs, `mlflow.log_input`). The answer goes to the pipeline as `OpsResults`, so every command sees the
same values.

Only reads: a SQLite or file store that does not exist is refused before MLflow is asked (MLflow would create
one), and nothing is logged. Requests to a server have a timeout and no retries.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis.evidence import MlRun, OpsResults
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model

ENV = "MLFLOW_TRACKING_URI"
SCHEMES = ("http", "https", "sqlite", "file")
TIMEOUT_S = 10
INSTALL_HINT = "pip install 'safetyops-dsl[ops]'"


def shown(uri: str) -> str:
    """The URI as messages show it: without a password."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def local_store(uri: str) -> Path | None:
    """The file of a SQLite store or the folder of a file store; None for a server."""
    scheme = urlsplit(uri).scheme
    if scheme == "sqlite":
        rest = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        return Path(rest) if rest else None
    if scheme == "file":
        rest = uri[len("file:"):]
        return Path(rest[2:] if rest.startswith("//") else rest)
    return None


def absolute(uri: str) -> str:
    """A local store's URI with an absolute path (the build runs in the model root)."""
    path = local_store(uri)
    if path is None or path.is_absolute():
        return uri
    full = path.resolve().as_posix()
    return f"sqlite:///{full}" if uri.startswith("sqlite:") else f"file://{full}"


def _registered(model: Model) -> list[tuple[str, el.Component]]:
    return [(q, c) for q, c in sorted(model.components.items()) if c.ml is not None and c.ml.model_identity]


def read(uri: str, model: Model, timeout_s: float = TIMEOUT_S) -> OpsResults:
    """What the registry at `uri` says about every registered model the model names."""
    comps = _registered(model)
    # a problem with the store itself is shown at the first `model` line that asks it
    first = comps[0][1] if comps else None
    where = (first.ml.model_location if first.ml else None) or first.location if first else Location("--mlflow")
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in SCHEMES:
        return _fail(uri, dg.make(
            dg.MLFLOW_URI, f"MLflow tracking URI '{shown(uri)}': scheme '{scheme or '(none)'}' is not one sops reads",
            where, "write http(s)://HOST:PORT for a server, sqlite:///PATH for a SQLite store, file:PATH for a file store"))
    store = local_store(uri)
    if scheme in ("sqlite", "file") and (
            store is None or not (store.is_file() if scheme == "sqlite" else store.is_dir())):
        what = "SQLite file" if scheme == "sqlite" else "folder"
        return _fail(uri, dg.make(dg.MLFLOW_URI, f"MLflow store '{shown(uri)}': no such {what}", where,
                                  "sops only reads a store: give the one the training runs logged to"))
    if not comps:
        return OpsResults(shown(uri))
    try:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError:
        return _fail(uri, dg.make(dg.MLFLOW_URI, "reading MLflow needs the mlflow package", where, INSTALL_HINT))
    runs: list[MlRun] = []
    diags: list[Diagnostic] = []
    with _no_retries(timeout_s), _quiet():
        try:
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            for qname, comp in comps:
                run, d = _resolve(client, uri, scheme, qname, comp, MlflowException)
                if d is not None:
                    diags.append(d)
                if run is not None:
                    runs.append(run)
        except Exception as exc:  # noqa: BLE001 - a store or network failure is a diagnostic, never a traceback
            return _fail(uri, _store_failure(uri, scheme, exc, where))
    return OpsResults(shown(uri), tuple(runs), tuple(diags))


def _fail(uri: str, d: Diagnostic) -> OpsResults:
    return OpsResults(shown(uri), (), (d,))


def _store_failure(uri: str, scheme: str, exc: Exception, where: Location) -> Diagnostic:
    text = _first_line(str(exc))
    if scheme in ("http", "https"):
        low = str(exc).lower()
        # the transport's own wording (urllib3, requests, proxies) varies: say what happened in our words
        why = ("timed out" if "timed out" in low or "timeout" in low else
               "connection refused" if "refused" in low else
               "no such host" if "name or service" in low or "resolve" in low else "no usable answer")
        return dg.make(dg.MLFLOW_UNREACHABLE, f"MLflow server '{shown(uri)}' did not answer: {why}", where,
                       f"check that the server runs and is reachable (sops waits {TIMEOUT_S} s, without retries)")
    return dg.make(dg.MLFLOW_URI, f"MLflow store '{shown(uri)}' cannot be read: {text}", where,
                   "give a store written by MLflow (sops does not upgrade or create one)")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no answer"
    return line if len(line) <= 200 else line[:197] + "..."


@contextlib.contextmanager
def _no_retries(timeout_s: float) -> Iterator[None]:
    """MLflow reads its HTTP timeout and retry count from the environment on every request."""
    keys = {"MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(max(1, timeout_s))), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            # MLflow 3 refuses its file store unless told: sops only reads one, as the issue asks it to
            "MLFLOW_ALLOW_FILE_STORE": "true",
            # a safety tool's read of a registry sends nothing elsewhere
            "MLFLOW_DISABLE_TELEMETRY": "true"}
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow logs its store set-up at INFO on stderr: the report is sops' own."""
    import logging

    log = logging.getLogger("mlflow")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _resolve(client: Any, uri: str, scheme: str, qname: str, comp: el.Component,
             mlflow_error: type[Exception]) -> tuple[MlRun | None, Diagnostic | None]:
    ml = comp.ml
    assert ml is not None and ml.model_identity is not None
    name, want = ml.model_identity, ml.model_version
    loc = ml.model_location or comp.location
    if not want:
        return None, dg.make(dg.MLFLOW_VERSION, f"model '{name}' names no version to look up in the MLflow registry",
                             loc, 'write `model "NAME" version "V"` with a version number, an alias or a `version` tag')
    try:
        client.get_registered_model(name)
    except mlflow_error as exc:
        if _not_found(exc):
            return None, dg.make(dg.MLFLOW_VERSION, f"no registered model '{name}' in MLflow '{shown(uri)}'", loc,
                                 "register the model (mlflow.register_model) or correct its name")
        raise
    version, d = _version(client, name, want, loc, mlflow_error)
    if version is None:
        return None, d
    run_id = version.run_id or ""
    if not run_id:
        return None, dg.make(dg.MLFLOW_NO_METRICS,
                             f"model '{name}' version {version.version} has no source run: its metrics are unknown",
                             loc, "register the version from the run that measured it (runs:/RUN_ID/...)")
    run = client.get_run(run_id)
    metrics = tuple(sorted((str(k), float(v)) for k, v in (run.data.metrics or {}).items()))
    if not metrics:
        return None, dg.make(dg.MLFLOW_NO_METRICS,
                             f"MLflow run {run_id} of model '{name}' version {version.version} has no metrics", loc,
                             "log the metrics the model declares (mlflow.log_metric) in the run that measured it")
    inputs = getattr(run, "inputs", None)
    datasets = tuple(sorted((str(di.dataset.name), str(di.dataset.digest or ""))
                            for di in (getattr(inputs, "dataset_inputs", None) or [])))
    url = ""
    if scheme in ("http", "https"):
        parts = urlsplit(uri)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        base = urlunsplit(parts._replace(netloc=host, query="", fragment=""))  # no credentials in a page
        url = f"{base.rstrip('/')}/#/experiments/{run.info.experiment_id}/runs/{run_id}"
    return MlRun(qname, name, str(version.version), run_id, url, metrics, datasets), None


def _not_found(exc: Exception) -> bool:
    code = getattr(exc, "error_code", "")
    return code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or "not found" in str(exc).lower()


_NUMBER = re.compile(r"[1-9][0-9]*")


def _version(client: Any, name: str, want: str, loc: Location, mlflow_error: type[Exception]) -> tuple[Any, Diagnostic | None]:
    """The version V names: its number, else an alias, else the one version whose tag `version` is V."""
    if _NUMBER.fullmatch(want):
        try:
            return client.get_model_version(name, want), None
        except mlflow_error as exc:
            if not _not_found(exc):
                raise
    else:
        try:
            return client.get_model_version_by_alias(name, want), None
        except mlflow_error as exc:
            if not _not_found(exc) and getattr(exc, "error_code", "") != "INVALID_PARAMETER_VALUE":
                raise
    escaped = name.replace("'", "\\'")
    tagged = [v for v in client.search_model_versions(f"name='{escaped}'") if (v.tags or {}).get("version") == want]
    if len(tagged) == 1:
        return tagged[0], None
    if len(tagged) > 1:
        numbers = ", ".join(sorted((str(v.version) for v in tagged), key=int))
        return None, dg.make(dg.MLFLOW_VERSION,
                             f"model '{name}': versions {numbers} all have the tag version={want}", loc,
                             "give one version its tag, or name the version by its number or an alias")
    return None, dg.make(dg.MLFLOW_VERSION,
                         f"model '{name}' has no version '{want}' (no such version number, alias or `version` tag)",
                         loc, "name a registered version: its number, an alias, or the value of its `version` tag")
