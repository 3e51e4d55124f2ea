"""Real MLflow stores and real DVC repositories, made in tmp folders with the libraries' own clients.

A new MLflow SQLite store costs ~10 s of schema migrations: one empty store is made per session and copied
for each test, which then logs what it needs into its copy."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("dvc")



def tree_digest(folder: Path) -> str:
    """Every file's path and bytes under `folder`: equal before and after = nothing was written."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    db = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    uri = f"sqlite:///{db}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()  # creates and migrates the schema
    return db


@dataclass
class Store:
    path: Path

    def digest(self) -> str:
        """The store's bytes (the database and any journal beside it): unchanged = nothing was written."""
        h = hashlib.sha256()
        for f in sorted(self.path.parent.glob(self.path.name + "*")):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        return h.hexdigest()

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def version(self, name: str, metrics: dict[str, list[float]] | None, datasets: dict[str, str] | None = None,
                tags: dict[str, str] | None = None, alias: str | None = None, with_run: bool = True) -> tuple[str, str]:
        """Register a version of `name` from a new run logging `metrics` (every value in turn: the last is
        the latest) and `datasets` (name -> digest) as inputs. Returns (version number, run id)."""
        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.exceptions import MlflowException

        c = self.client
        exp = c.get_experiment_by_name("aeb")
        exp_id = exp.experiment_id if exp is not None else c.create_experiment("aeb")
        run = c.create_run(exp_id)
        rid = run.info.run_id
        for key, values in (metrics or {}).items():
            for step, v in enumerate(values):
                c.log_metric(rid, key, v, step=step)
        if datasets:
            c.log_inputs(rid, datasets=[
                DatasetInput(Dataset(n, d, "local", f"data/{n}"), tags=[InputTag("mlflow.data.context", "eval")])
                for n, d in datasets.items()])
        c.set_terminated(rid)
        with contextlib.suppress(MlflowException):
            c.create_registered_model(name)
        v = c.create_model_version(name, source=f"{run.info.artifact_uri}/model", run_id=rid if with_run else None,
                                   tags=tags or {})
        if alias:
            c.set_registered_model_alias(name, alias, v.version)
        return str(v.version), rid


@pytest.fixture
def store(empty_store: Path, tmp_path: Path) -> Store:
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    path = tmp_path / "mlflow.db"
    shutil.copyfile(empty_store, path)
    return Store(path)


def run(cmd: list[str], cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "DVC_NO_ANALYTICS": "1"})
    assert done.returncode == 0, (cmd, done.stdout, done.stderr)
    return done.stdout


def dvc_exe() -> str:
    found = shutil.which("dvc") or str(Path(__import__("sys").executable).parent / "dvc")
    return found


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Iterator[Path]:
    """A git + DVC repository without a remote."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "ci@example.com"], repo)
    run(["git", "config", "user.name", "ci"], repo)
    run(["git", "config", "commit.gpgsign", "false"], repo)
    run([dvc_exe(), "init", "-q"], repo)
    run([dvc_exe(), "config", "core.analytics", "false"], repo)
    yield repo
