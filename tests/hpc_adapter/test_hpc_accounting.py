"""Parsing sacct output: real Slurm 22.05 documents, newer shapes, and malformed records that must not abort."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from hpc_adapter.accounting import SacctFormat, SacctReader, parse_sacct_json, parse_sacct_parsable
from veid.errors import AdapterError

DATA = Path(__file__).parent / "data"


def test_real_22_05_json_and_parsable2_give_the_same_records():
    # Recorded from Debian's slurm-wlm 22.05.8 (sacct -a -X --json / --parsable2) on the test cluster.
    by_json = parse_sacct_json((DATA / "sacct_22.05_jobs.json").read_text())
    by_text = parse_sacct_parsable((DATA / "sacct_22.05_parsable2.txt").read_text().splitlines())
    assert by_json.problems == () and by_text.problems == ()
    assert by_json.records == by_text.records
    first = by_json.records[0]
    assert (first.account, first.state, first.billing, first.elapsed_s) == ("providera", "COMPLETED", 2, 2)
    assert {r.state for r in by_json.records} == {"COMPLETED", "FAILED"}


def test_one_malformed_json_record_is_reported_and_the_rest_parse():
    doc = json.loads((DATA / "sacct_22.05_jobs.json").read_text())
    doc["jobs"][1]["time"]["elapsed"] = "soon"
    del doc["jobs"][2]["tres"]
    doc["jobs"].append("not a job")
    batch = parse_sacct_json(json.dumps(doc))
    assert [r.job_id for r in batch.records] == ["1"]
    assert len(batch.problems) == 3
    assert all("malformed record" in p.reason for p in batch.problems)


def test_newer_slurm_shapes_are_understood():
    doc = json.loads((DATA / "sacct_22.05_jobs.json").read_text())
    job = copy.deepcopy(doc["jobs"][0])
    job["state"]["current"] = ["COMPLETED"]  # Slurm 23.02+
    job["time"]["end"] = {"set": True, "infinite": False, "number": 1795863149}
    job["account"] = "ProviderA"
    rec = parse_sacct_json(json.dumps({"jobs": [job]})).records[0]
    assert (rec.state, rec.end_time, rec.account) == ("COMPLETED", 1795863149, "providera")


def test_running_job_is_not_final():
    doc = json.loads((DATA / "sacct_22.05_jobs.json").read_text())
    doc["jobs"][0]["state"]["current"] = "RUNNING"
    doc["jobs"][0]["time"]["end"] = 0
    rec = parse_sacct_json(json.dumps(doc)).records[0]
    assert not rec.is_final and rec.end_time is None


def test_parsable2_bad_lines_are_problems():
    lines = [
        "veidtest|7|prov|COMPLETED|10|billing=4,cpu=4,node=1|2026-11-28T10:52:29",
        "veidtest|8|prov|COMPLETED|-5|billing=1|2026-11-28T10:52:29",
        "veidtest|9|prov|CANCELLED by 0|3|cpu=1|Unknown",
        "garbage",
        "veidtest|10|prov|COMPLETED|3|billing|2026-11-28T10:52:29",
    ]
    batch = parse_sacct_parsable(lines)
    assert [(r.job_id, r.state, r.billing) for r in batch.records] == [("7", "COMPLETED", 4), ("9", "CANCELLED", 0)]
    assert [p.where for p in batch.problems] == ["line 2", "line 4", "line 5"]


def test_not_a_document_is_an_adapter_error():
    with pytest.raises(AdapterError):
        parse_sacct_json("sacct: error: something")


def test_missing_sacct_binary_maps_to_adapter_error():
    with pytest.raises(AdapterError, match="sacct not found"):
        SacctReader(sacct_bin="/nonexistent/sacct").read(60)


def test_command_asks_all_users_allocations_in_window():
    cmd = SacctReader(SacctFormat.PARSABLE2).command(3600)
    assert cmd[:6] == ["sacct", "-a", "-X", "-S", "now-3600", "-E"]
    assert "--parsable2" in cmd


def test_pyslurm_backend_is_optional_and_maps_db_jobs(monkeypatch):
    import sys
    import types

    from hpc_adapter.accounting import PyslurmReader, make_reader

    monkeypatch.setitem(sys.modules, "pyslurm", None)  # not installed
    with pytest.raises(AdapterError, match="pyslurm"):
        make_reader("pyslurm", "parsable2")

    # A stand-in exposing pyslurm.db's documented surface (Jobs.load, JobFilter, db.Job attributes).
    class Job:
        def __init__(self, **kw):
            self.__dict__.update(dict(array_id=None, array_task_id=None, cpus=4, end_time=1795863149), **kw)

    jobs = [Job(id=7, cluster="c", account="ProvA", state="COMPLETED", elapsed_time=30),
            Job(id=8, cluster="c", account="provb", state="RUNNING", elapsed_time=3, end_time=None),
            Job(id=9, cluster="c", account="provb", state="COMPLETED", elapsed_time="soon")]
    db = types.SimpleNamespace(Jobs=types.SimpleNamespace(load=lambda f: jobs), JobFilter=lambda **kw: kw)
    monkeypatch.setitem(sys.modules, "pyslurm", types.SimpleNamespace(db=db))
    batch = PyslurmReader().read(3600)
    assert [(r.job_id, r.account, r.state, r.billing, r.end_time) for r in batch.records] == [
        ("7", "prova", "COMPLETED", 4, 1795863149), ("8", "provb", "RUNNING", 4, None)]
    assert [p.where for p in batch.problems] == ["job[2] 9"]
