"""The result sources beyond CI files, read once for a command: the MLflow registry (`--mlflow`) and DVC
pipelines (`--results dvc.yaml`). trace, gate, build and diff all come through here, so they see one answer."""

from __future__ import annotations

from collections.abc import Sequence

from safetyops_dsl.analysis.evidence import OpsResults, merge_ops
from safetyops_dsl.model.index import Model
from safetyops_dsl.ops import dvc_metrics, mlflow_source


def read(results: Sequence[str], mlflow_uri: str | None, model: Model) -> tuple[tuple[str, ...], OpsResults | None]:
    """(the result files and folders left for the CI reader, what MLflow and DVC answered or None)."""
    files, pipelines = dvc_metrics.split(results)
    registry = mlflow_source.read(mlflow_uri, model) if mlflow_uri else None
    return files, merge_ops([registry, dvc_metrics.read(pipelines, model.root)])
