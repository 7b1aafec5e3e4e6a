"""Benchmark of the document pipeline: real MRZ specimens against PassportEye, PDF417 payloads, synthetic test split.

Run: ``.venv/bin/python -m bench.bench_document [--only mrz,pdf417,synth] [--limit N]``. Three tables:

1. MRZ on ``../shared/data/mrz-passporteye/testdata`` (34 specimen images): how many are read with
   every check digit valid, and the median time per image, for VEID's ``MrzReader`` and for the
   PassportEye package (``passporteye.read_mrz``) run in the same process tree on the same images.
   PassportEye lives in its own venv (``.venv-peer``, its pins differ from ours) and runs through
   a subprocess that times each image itself (process start and imports are not counted). Both
   use the system Tesseract with the same environment. The 4 ``tests_data`` fixtures are listed too.
2. PDF417 on ``../shared/data/pdf417-zxing``: payloads decoded exactly (bytes or UTF-8 text equal to
   the expected file), per folder; structured-append groups (``NN-MM`` images) are concatenated in order.
3. ``verify_document`` on the synthetic generator's ``test`` split (held-out identities): orientation
   accuracy, exact-match accuracy per field, character error rate, p50/p95 latency with models loaded.
   The truth is what each photo shows: the printed fields on fronts; on licence backs, which print
   no name, the PDF417's AAMVA elements (ASCII: ``GOMEZ-PEREZ``, not ``GÓMEZ-PÉREZ``). The
   generator's ``tampered_field`` negatives print one field unlike their MRZ or barcode; the pipeline
   then reports the check-digit-verified value and fails that field's cross-check. Accuracy is
   printed over all fields and over the fields printed as issued, and the tampered fields over
   their own row: how many a failed ``mrz.``/``barcode.`` cross-check flags. False alarms: those
   cross-checks failed on fields printed as issued (an honest document flagged), of all run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
PEER_PY = REPO / ".venv-peer" / "bin" / "python"

_PEER_SCRIPT = r"""
import json, resource, sys, time
from passporteye import read_mrz
def cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime
for path in sys.argv[1:]:
    t, c = time.perf_counter(), cpu()
    try:
        mrz = read_mrz(path)
        valid = bool(mrz is not None and mrz.valid)
        score = None if mrz is None else mrz.valid_score
    except Exception as exc:  # report, never stop the run
        valid, score = False, f"error: {exc}"
    print(json.dumps({"file": path, "valid": valid, "score": score, "s": time.perf_counter() - t, "cpu": cpu() - c}),
          flush=True)
"""


def _cpu() -> float:
    """CPU seconds of this process (all threads) and its finished children: robust to other load."""
    import resource

    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def _mrz_files() -> tuple[list[Path], list[Path]]:
    root = DATA / "mrz-passporteye"
    return sorted((root / "testdata").iterdir()), sorted((root / "tests_data").iterdir())


def bench_mrz() -> None:
    import cv2

    from pipelines.document.mrz_reader import MrzReader

    testdata, fixtures = _mrz_files()
    reader = MrzReader()
    reader(cv2.cvtColor(cv2.imread(str(fixtures[0])), cv2.COLOR_BGR2RGB))  # warm-up: loads Tesseract once
    ours = {}
    for path in testdata + fixtures:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        t, c = time.perf_counter(), _cpu()
        det = reader(rgb)
        ours[path] = (det is not None and det.reading.valid, time.perf_counter() - t,
                      None if det is None else det.reading.corrections, _cpu() - c)
    peer: dict[Path, tuple[bool, float, float]] = {}
    peer_note = ""
    if PEER_PY.exists():
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(_PEER_SCRIPT)
        try:
            out = subprocess.run([str(PEER_PY), f.name, *map(str, testdata + fixtures)], capture_output=True,
                                 text=True, timeout=1800, env=dict(os.environ))
            for line in out.stdout.splitlines():
                rec = json.loads(line)
                peer[Path(rec["file"])] = (rec["valid"], rec["s"], rec["cpu"])
            if out.returncode:
                peer_note = f"(PassportEye exited {out.returncode}: {out.stderr.strip()[-200:]})"
        finally:
            os.unlink(f.name)
    else:
        peer_note = f"(PassportEye not measured: {PEER_PY} missing; `python3.11 -m venv .venv-peer && .venv-peer/bin/pip install PassportEye==2.2.2`)"

    print("\nMRZ read with every check digit valid (../shared/data/mrz-passporteye)")
    print(f"{'image':<24} {'VEID':>6} {'wall ms':>8} {'cpu ms':>7} {'fix':>4} | {'PassportEye':>11} {'wall ms':>8} {'cpu ms':>7}")
    for path in testdata + fixtures:
        v, s, fix, c = ours[path]
        pv, ps, pc = peer.get(path, (None, float("nan"), float("nan")))
        print(f"{path.parent.name[:5] + '/' + path.name:<24} {str(v):>6} {s * 1e3:8.0f} {c * 1e3:7.0f} "
              f"{'' if fix is None else fix:>4} | {'' if pv is None else str(pv):>11} {ps * 1e3:8.0f} {pc * 1e3:7.0f}")
    n = len(testdata)
    ov = sum(ours[p][0] for p in testdata)
    om, oc = (statistics.median(ours[p][i] for p in testdata) for i in (1, 3))
    print(f"\n{'':<24}{'valid':>10} {'median wall s':>14} {'mean wall s':>12} {'median cpu s':>13} {'mean cpu s':>11}")
    print(f"{'VEID MrzReader':<24}{ov:>6}/{n:<3} {om:14.3f} {statistics.mean(ours[p][1] for p in testdata):12.3f} "
          f"{oc:13.3f} {statistics.mean(ours[p][3] for p in testdata):11.3f}")
    if peer:
        rows = [peer[p] for p in testdata if p in peer]
        pv = sum(r[0] for r in rows)
        pm, pc = statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)
        print(f"{'PassportEye 2.2.2':<24}{pv:>6}/{n:<3} {pm:14.3f} {statistics.mean(r[1] for r in rows):12.3f} "
              f"{pc:13.3f} {statistics.mean(r[2] for r in rows):11.3f}")
        print(f"speed ratio PassportEye / VEID: median wall {pm / om:.1f}x, median cpu {pc / oc:.1f}x "
              f"(wall time depends on what else runs on the 2 cores; cpu time much less so)")
    fixtures_ok = sum(ours[p][0] for p in fixtures)
    print(f"tests_data fixtures valid (VEID): {fixtures_ok}/{len(fixtures)}  {peer_note}")


def _expected(folder: Path, stem: str) -> bytes | None:
    for ext in (".txt", ".bin"):
        if (folder / f"{stem}{ext}").exists():
            return (folder / f"{stem}{ext}").read_bytes()
    return None


def bench_pdf417() -> None:
    from pipelines.document.barcode import BarcodeFormat, BarcodeReader
    from pipelines.document.image_io import ImageLimits, decode_image

    reader = BarcodeReader()
    limits = ImageLimits(min_side=1)
    print("\nPDF417 payloads decoded exactly (../shared/data/pdf417-zxing)")
    print(f"{'folder':<10} {'exact':>6} {'payloads':>9} {'median ms':>10}")
    for folder in sorted(p for p in (DATA / "pdf417-zxing").iterdir() if p.is_dir()):
        images = sorted(p for p in folder.iterdir() if p.suffix in (".png", ".webp", ".jpg"))
        groups: dict[str, list[Path]] = {}
        for img in images:
            groups.setdefault(img.stem.split("-")[0] if "-" in img.stem and folder.name == "pdf417-4" else img.stem,
                              []).append(img)
        ok, times = 0, []
        for stem, imgs in groups.items():
            expected = _expected(folder, stem)
            parts_b, parts_t = [], []
            for img in imgs:
                rgb = decode_image(img, limits)
                t = time.perf_counter()
                found = [b for b in reader(rgb) if b.format is BarcodeFormat.PDF417]
                times.append(time.perf_counter() - t)
                found.sort(key=lambda b: (round(b.quad.bounds().y0 / 50), b.quad.bounds().x0) if b.quad else (0, 0))
                parts_b += [b.payload for b in found]
                parts_t += [b.text for b in found]
            got_b, got_t = b"".join(parts_b), "".join(parts_t)
            ok += expected is not None and (expected == got_b or expected == got_t.encode("utf-8")
                                            or expected.rstrip(b"\n") == got_t.encode("utf-8"))
        print(f"{folder.name:<10} {ok:>6} {len(groups):>9} {statistics.median(times) * 1e3:10.1f}")


def _synth_truth(r: dict) -> dict:
    """What a synthetic document shows, per key field: the printed text on fronts; on licence
    backs, which print no name, what the PDF417 encodes (AAMVA names are ASCII: no diacritics)."""
    from pipelines.document.aamva import parse_payload
    from pipelines.document.validation import barcode_values, normalize_id, normalize_name
    from veid.types import Field

    if r["fields"]:
        f = r["fields"]
        return {Field.ID_NUMBER: normalize_id(f["id_number"]["text"]), Field.LAST_NAME: normalize_name(f["last_name"]["text"]),
                Field.FIRST_NAME: normalize_name(f["first_name"]["text"]), Field.DATE_OF_BIRTH: f["date_of_birth"]["iso"]}
    idd = r["identity_data"]
    truth = {Field.ID_NUMBER: normalize_id(idd["id_number"]), Field.LAST_NAME: normalize_name(idd["last_name"]),
             Field.FIRST_NAME: normalize_name(idd["first_name"]), Field.DATE_OF_BIRTH: idd["date_of_birth"]}
    barcode = r.get("barcode")
    if isinstance(barcode, dict) and barcode.get("payload"):
        encoded = barcode_values(parse_payload(barcode["payload"]))
        for f in (Field.LAST_NAME, Field.FIRST_NAME):
            truth[f] = encoded.get(f, "")
    return truth


def bench_synth(limit: int | None, synth_dir: Path, splits: tuple[str, ...] = ("test",),
                params: Path = REPO / "params.yaml", failures: Path | None = None) -> None:
    """Run the pipeline over the synthetic split(s) and print the table; with ``failures``, also write
    one JSON line per field read wrong (document id, family/side, field, read, truth), per false alarm
    (``alarm``: the failed check, its reason, the value reported) and per document whose family was taken
    for another (``family``: the one reported). The identities
    are generated, so writing them is no personal data; never point this at real documents."""
    import numpy as np

    from pipelines.document.pipeline import DocumentStages, load_config, verify_document
    from pipelines.document.validation import mrz_form, similarity
    from veid.errors import ModelError, VeidError
    from veid.types import Field

    manifest = synth_dir / "manifest.jsonl"
    if not manifest.exists():
        print(f"\nsynthetic split: {manifest} missing (run `veid synth --n 300 --seed 1 --out {synth_dir}`)")
        return
    records = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    test = [r for r in records if r["split"] in splits][:limit]
    if not test:
        print(f"\nsynthetic split: no documents of split {'/'.join(splits)} in {manifest}")
        return
    cfg = load_config(params)
    try:
        from models.registry import load_document_models

        models, model_note = load_document_models(), "CRAFT+UNET loaded"
    except ModelError as exc:
        models, model_note = None, f"no field models ({str(exc)[:80]}): fields from MRZ/barcode only"
    stages = DocumentStages.build(cfg, models)
    # warm-up (TensorFlow traces MTCNN's graphs on first use): not timed
    from pipelines.document.image_io import decode_image

    verify_document(decode_image(synth_dir / test[0]["image"], cfg.input), cfg, stages)
    lat, cpu, orient_ok, family_ok, errors = [], [], 0, 0, 0
    missed: list[dict] = []
    portraits = [0, 0]  # fronts whose portrait was handed to the face stage, fronts
    stage_ms: dict[str, list[float]] = {}
    exact = {f: 0 for f in Field}
    folded = {f: 0 for f in Field}
    edits, chars = 0, 0
    per_family: dict[str, list[int]] = {}
    # a tampered_field negative prints one field unlike its MRZ/barcode: no single value is right there,
    # the pipeline's job is to flag the disagreement. Those fields are also scored apart.
    genuine = {f: [0, 0] for f in Field}  # exact, total over fields printed as issued
    tampered = [0, 0, 0]  # flagged by a failed mrz./barcode. cross-check, total checkable, on documents without either
    alarms = [0, 0]  # mrz./barcode. cross-checks of the four fields printed as issued: failed, run
    for r in test:
        rgb = decode_image(synth_dir / r["image"], cfg.input)
        t, c = time.perf_counter(), _cpu()
        try:
            res = verify_document(rgb, cfg, stages)
        except VeidError:
            res = None
            errors += 1
        lat.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
        for stage, ms in (res.timings_ms.items() if res is not None else ()):
            stage_ms.setdefault(stage, []).append(ms)
        if res is not None:  # from the portrait, else the MRZ, or on a licence back its PDF417 symbol
            orient_ok += res.orientation.angle % 360 == r["orientation"] % 360
            read_family = res.family.value if res.family is not None else ""
            family_ok += read_family == r["family"]
            if read_family != r["family"]:
                missed.append({"id": r["id"], "doc": f"{r['family']}/{r['side']}", "family": read_family})
        if r["side"] == "front":
            portraits[0] += res is not None and res.portrait is not None
            portraits[1] += 1
        truth = _synth_truth(r)
        fam = per_family.setdefault(f"{r['family']}/{r['side']}", [0, 0])
        fam[1] += 4
        forged = ((r.get("label") or {}).get("detail") or {}).get("tampered_field")
        if forged in {f.value for f in truth}:
            if not (r.get("mrz") or r.get("barcode")):
                tampered[2] += 1  # a licence front: nothing printed to check the field against
            else:
                tampered[1] += 1
                tampered[0] += res is not None and any(
                    not c.passed and c.name in (f"mrz.{forged}", f"barcode.{forged}") for c in res.checks)
        for c in res.checks if res is not None else ():
            kind, _, field = c.name.partition(".")
            if kind in ("mrz", "barcode") and field in {f.value for f in Field} and field != forged:
                alarms[0] += not c.passed
                alarms[1] += 1
                if not c.passed:
                    missed.append({"id": r["id"], "doc": f"{r['family']}/{r['side']}", "alarm": c.name,
                                   "reason": c.reason, "read": res.fields[Field(field)].value
                                   if Field(field) in res.fields else ""})
        for f, want in truth.items():
            got = res.fields[f].value if res is not None and f in res.fields else ""
            exact[f] += got == want
            if got != want:
                missed.append({"id": r["id"], "doc": f"{r['family']}/{r['side']}", "field": f.value,
                               "read": got, "truth": want, "tampered": f.value == forged})
            if f.value != forged:
                genuine[f][0] += got == want
                genuine[f][1] += 1
            folded[f] += mrz_form(got) == mrz_form(want) if f in (Field.FIRST_NAME, Field.LAST_NAME) else got == want
            fam[0] += got == want
            edits += round((1 - similarity(got, want)) * max(len(got), len(want)))
            chars += len(want)
    n = len(test)
    if failures is not None:
        tmp = failures.with_name(failures.name + ".tmp")
        tmp.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in missed), encoding="utf-8")
        os.replace(tmp, failures)
    lat_ms = np.array(lat) * 1e3
    print(f"\nverify_document on the synthetic {'+'.join(splits)} split ({n} documents, {synth_dir}; {model_note}; "
          f"{params.name})")
    print(f"{'metric':<40} {'value':>10}")
    print(f"{'orientation accuracy':<40} {orient_ok / n:10.3f}")
    print(f"{'document family right':<40} {family_ok:>5d}/{n:<4d}")
    print(f"{'portrait found (fronts)':<40} {portraits[0]:>5d}/{portraits[1]:<4d}")
    for f in Field:
        print(f"{'exact match ' + f.value:<40} {exact[f] / n:10.3f}")
    for f in Field:
        good, total = genuine[f]
        print(f"{'exact match ' + f.value + ' (as issued)':<40} {good / max(total, 1):10.3f}  ({good}/{total})")
    print(f"{'tampered fields flagged (cross-check)':<40} {tampered[0]:>5d}/{tampered[1]:<4d} "
          f"(+{tampered[2]} on documents with no MRZ or barcode to check against)")
    print(f"{'false alarms (cross-checks failed, as issued)':<40} {alarms[0]:>5d}/{alarms[1]:<4d}")
    for f in (Field.FIRST_NAME, Field.LAST_NAME):
        print(f"{'match in MRZ form ' + f.value:<40} {folded[f] / n:10.3f}")
    print(f"{'character error rate (4 fields)':<40} {edits / max(chars, 1):10.3f}")
    print(f"{'input errors (no result)':<40} {errors:10d}")
    print(f"{'latency p50 ms':<40} {np.percentile(lat_ms, 50):10.0f}")
    print(f"{'latency p95 ms':<40} {np.percentile(lat_ms, 95):10.0f}")
    print(f"{'CPU p50 ms (all threads)':<40} {np.percentile(np.array(cpu) * 1e3, 50):10.0f}")
    for stage, values in stage_ms.items():  # wall time; a stage that did not run on a document is not counted
        print(f"{'  stage ' + stage + f' median ms (n={len(values)})':<40} {statistics.median(values):10.1f}")
    for fam, (good, total) in sorted(per_family.items()):
        print(f"{'  field accuracy ' + fam:<40} {good / total:10.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mrz,pdf417,synth", help="comma-separated subset of mrz,pdf417,synth")
    parser.add_argument("--limit", type=int, default=None, help="at most this many synthetic test documents")
    parser.add_argument("--synth-dir", default=os.environ.get("VEID_SYNTH_DIR", "/work/synth-sample"))
    parser.add_argument("--split", default="test",
                        help="comma-separated synthetic splits to run (tune on train,val; report on test)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml",
                        help="params file of the pipeline (to compare settings on one split)")
    parser.add_argument("--failures", type=Path, default=None,
                        help="write each synthetic field read wrong, and each false alarm, to this JSONL file "
                             "(generated identities only)")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    print(f"cores: {os.cpu_count()}  OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT')}")
    if "mrz" in parts:
        bench_mrz()
    if "pdf417" in parts:
        bench_pdf417()
    if "synth" in parts:
        bench_synth(args.limit, Path(args.synth_dir), tuple(args.split.split(",")), args.params, args.failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
