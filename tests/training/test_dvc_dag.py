"""The DVC pipeline parses, forms a DAG, and each document-model stage lists params that exist."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DOC_STAGES = ("generate", "prepare", "train_craft", "train_unet", "evaluate", "register", "train_marks", "train_captions",
              "train_low_marks")


def _dvc(repo: Path) -> list[str]:
    exe = Path(sys.executable).with_name("dvc")
    return [str(exe)] if exe.exists() else [shutil.which("dvc") or "dvc"]


def test_dvc_dag_is_valid_and_orders_the_document_stages(repo_root):
    out = subprocess.run([*_dvc(repo_root), "dag", "--md"], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for stage in DOC_STAGES:
        assert f"data/dvc.yaml:{stage}" in out.stdout
    # edges of the chain exist (mermaid lines look like "node1-->node2")
    text = out.stdout
    assert "-->" in text


def test_document_stages_list_existing_param_keys_and_deps(repo_root):
    dvc = yaml.safe_load((repo_root / "data" / "dvc.yaml").read_text())
    params = yaml.safe_load((repo_root / "params.yaml").read_text())
    for name in DOC_STAGES:
        stage = dvc["stages"][name]
        assert stage["wdir"] == ".."
        for key in stage.get("params", []):
            node = params
            for part in key.split("."):
                assert part in node, f"{name}: params key {key} missing in params.yaml"
                node = node[part]
        for dep in stage.get("deps", []):
            if not dep.startswith("data/") and not dep.startswith("models/weights/"):
                assert (repo_root / dep).exists(), f"{name}: dependency {dep} does not exist"


def test_ci_params_parse_into_the_stage_configs(repo_root):
    from training.evaluate_docmodels import DocEvalConfig
    from training.mlflow_utils import DocTrainConfig
    from training.prepare import DocDataConfig
    from training.train_craft import CraftTrainConfig
    from training.train_unet import UnetTrainConfig
    from veid.config import load_section

    for path in (repo_root / "params.yaml", repo_root / "data" / "params_ci.yaml"):
        for section, cls in (("doc_data", DocDataConfig), ("doc_train", DocTrainConfig), ("craft", CraftTrainConfig),
                             ("unet", UnetTrainConfig), ("doc_eval", DocEvalConfig)):
            load_section(path, section, cls)
