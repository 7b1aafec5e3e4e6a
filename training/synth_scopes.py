"""Synthetic web-scope histories (email, SMS, SSO, domain, metadata, document, face) for genuine and fraudulent users.

Each user gets one JSON-ready record::

    {"identity": "id-0007", "split": "train", "label": 1 | 0, "archetype": "...", "scopes": {...}}

``label`` is 1 for a genuine user and 0 for a fraudster. ``scopes`` holds one entry per
scope (``None`` when the user never attempted that scope); every entry carries the
summary a real scope module would produce (see :data:`SCOPE_SCHEMA_VERSION` and the
key list in :func:`scope_histories`). The classes overlap on purpose: sophisticated
fraudsters pass most checks, genuine users travel, share devices, use VPNs, mistype codes
and fail liveness in bad light, so a scorer cannot reach a perfect separation.

A user's record depends only on ``(seed, identity)`` (``split`` is copied through): generating a
subset, or the same users in another order, gives identical records.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

#: Bumped whenever a key is added, removed or changes meaning.
SCOPE_SCHEMA_VERSION = 1

#: Countries used for documents, IPs and GPS (ISO 3166-1 alpha-2).
COUNTRIES = (
    "US", "CA", "MX", "BR", "AR", "GB", "IE", "FR", "DE", "NL", "BE", "ES", "PT", "IT", "CH", "AT",
    "PL", "CZ", "SE", "NO", "FI", "DK", "EE", "UA", "TR", "NG", "KE", "ZA", "EG", "IN", "PK", "CN",
    "JP", "KR", "SG", "ID", "PH", "VN", "AU", "NZ",
)
#: Countries that neighbour each other often enough that IP geolocation lands in the next one.
_NEIGHBOURS = {
    "US": ("CA", "MX"), "CA": ("US",), "MX": ("US",), "GB": ("IE", "FR"), "IE": ("GB",),
    "FR": ("BE", "DE", "CH", "ES"), "DE": ("NL", "AT", "CH", "PL", "FR"), "NL": ("DE", "BE"),
    "BE": ("NL", "FR"), "ES": ("PT", "FR"), "PT": ("ES",), "IT": ("CH", "AT"), "CH": ("DE", "FR"),
    "AT": ("DE", "CZ"), "PL": ("DE", "CZ"), "CZ": ("DE", "PL"), "SE": ("NO", "FI", "DK"),
    "NO": ("SE",), "FI": ("SE", "EE"), "DK": ("SE", "DE"), "EE": ("FI",),
}
_SSO_PROVIDERS = ("google", "microsoft", "facebook", "generic")

GENUINE_ARCHETYPES = {"complete": 0.42, "light": 0.22, "traveller": 0.12, "struggling": 0.14, "provider": 0.10}
FRAUD_ARCHETYPES = {
    "synthetic_identity": 0.26, "stolen_document": 0.22, "account_farm": 0.18,
    "replay_attack": 0.16, "sophisticated": 0.18,
}


def _rng(seed: int, identity: str) -> np.random.Generator:
    digest = hashlib.sha256(f"veid-scopes/{seed}/{identity}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.asarray([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _other_country(rng: np.random.Generator, country: str, near: bool) -> str:
    if near and country in _NEIGHBOURS:
        options = _NEIGHBOURS[country]
        return options[int(rng.integers(len(options)))]
    while True:
        c = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        if c != country:
            return c


def _email(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    attempt_p = {"light": 0.97, "account_farm": 0.99}.get(arch, 0.88)
    if rng.random() > attempt_p:
        return None
    if genuine:
        disposable = rng.random() < 0.02
        failed = int(rng.poisson(0.25 if arch != "struggling" else 1.0))
        age = float(rng.lognormal(6.2, 1.5))  # days since the mailbox first appeared in any record
        verified = rng.random() < (0.96 if arch != "struggling" else 0.82)
    else:
        disposable = rng.random() < {"account_farm": 0.55, "synthetic_identity": 0.30}.get(arch, 0.10)
        failed = int(rng.poisson(0.5 if arch != "account_farm" else 1.5))
        age = float(rng.lognormal(2.5 if arch != "sophisticated" else 5.8, 1.4))
        verified = rng.random() < 0.93  # a fraudster controls the mailbox they sign up with
    return {
        "verified": bool(verified),
        "codes_sent": int(1 + failed // 3 + rng.poisson(0.2)),
        "failed_attempts": failed,
        "locked_out": bool(failed >= 5),
        "disposable_domain": bool(disposable),
        "mailbox_age_days": _r(age, 1),
        "seconds_to_verify": _r(rng.lognormal(4.0 if genuine else 3.2, 0.7), 1) if verified else None,
    }


def _sms(rng: np.random.Generator, genuine: bool, arch: str, doc_country: str) -> dict[str, Any] | None:
    attempt_p = {"light": 0.85, "account_farm": 0.60, "provider": 0.70}.get(arch, 0.78)
    if rng.random() > attempt_p:
        return None
    if genuine:
        voip = rng.random() < 0.06
        country = doc_country if rng.random() < 0.9 else _other_country(rng, doc_country, near=True)
        failed = int(rng.poisson(0.3 if arch != "struggling" else 1.2))
        verified = rng.random() < 0.94
        sim_age = float(rng.lognormal(6.0, 1.0))
    else:
        voip = rng.random() < {"account_farm": 0.7, "synthetic_identity": 0.45, "sophisticated": 0.12}.get(arch, 0.3)
        country = doc_country if rng.random() < 0.55 else _other_country(rng, doc_country, near=False)
        failed = int(rng.poisson(0.7))
        verified = rng.random() < 0.85
        sim_age = float(rng.lognormal(2.0 if arch != "sophisticated" else 5.4, 1.3))
    return {
        "verified": bool(verified),
        "codes_sent": int(1 + failed // 3 + rng.poisson(0.2)),
        "failed_attempts": failed,
        "locked_out": bool(failed >= 5),
        "voip_number": bool(voip),
        "number_country": country,
        "number_age_days": _r(sim_age, 1),
    }


def _sso(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    attempt_p = {"light": 0.8, "complete": 0.55, "provider": 0.7, "account_farm": 0.35}.get(arch, 0.4)
    if rng.random() > attempt_p:
        return None
    provider = _SSO_PROVIDERS[int(rng.choice(4, p=[0.5, 0.25, 0.17, 0.08]))]
    if genuine:
        verified = rng.random() < 0.97
        account_age = float(rng.lognormal(7.0, 0.9))
        email_verified = rng.random() < 0.95
        email_match = rng.random() < 0.85
        mfa = rng.random() < 0.45
    else:
        verified = rng.random() < 0.9
        account_age = float(rng.lognormal(2.8 if arch != "sophisticated" else 6.3, 1.2))
        email_verified = rng.random() < 0.7
        email_match = rng.random() < 0.6
        mfa = rng.random() < (0.1 if arch != "sophisticated" else 0.3)
    return {
        "verified": bool(verified),
        "provider": provider,
        "failure": None if verified else str(rng.choice(["bad_signature", "expired", "wrong_audience", "wrong_nonce"])),
        "claims": {
            "email_verified": bool(email_verified),
            "email_matches_account": bool(email_match),
            "account_age_days": _r(account_age, 1),
            "mfa": bool(mfa),
        },
    }


def _domain(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    attempt_p = 0.95 if arch == "provider" else (0.04 if genuine else 0.06)
    if rng.random() > attempt_p:
        return None
    verified = rng.random() < (0.93 if genuine else 0.5)
    return {
        "verified": bool(verified),
        "method": "dns_txt" if rng.random() < 0.75 else "https_well_known",
        "domain_age_days": _r(rng.lognormal(7.5 if genuine else 3.0, 1.0), 1),
        "failure": None if verified else str(rng.choice(["missing_record", "wrong_token"])),
    }


def _metadata(rng: np.random.Generator, genuine: bool, arch: str, doc_country: str) -> dict[str, Any]:
    if genuine:
        travelling = arch == "traveller" or rng.random() < 0.04
        here = _other_country(rng, doc_country, near=rng.random() < 0.4) if travelling else doc_country
        vpn = rng.random() < 0.08
        ip_country = here if not vpn else _other_country(rng, here, near=False)
        if not vpn and rng.random() < 0.05:
            ip_country = _other_country(rng, here, near=True)  # geolocation error near a border
        gps_country = here if rng.random() < 0.7 else None
        device_accounts = int(1 + rng.poisson(0.15 if arch != "provider" else 0.6))  # shared family devices
        signups_ip_24h = int(1 + rng.poisson(0.3))
        attempts_24h = int(1 + rng.poisson(0.6 if arch != "struggling" else 2.0))
        emulator = rng.random() < 0.01
    else:
        far = rng.random() < {"sophisticated": 0.15, "account_farm": 0.6}.get(arch, 0.5)
        here = _other_country(rng, doc_country, near=False) if far else doc_country
        vpn = rng.random() < {"sophisticated": 0.15, "account_farm": 0.55}.get(arch, 0.4)
        ip_country = here if not vpn else _other_country(rng, here, near=False)
        spoof_gps = rng.random() < 0.3
        gps_country = (doc_country if spoof_gps else here) if rng.random() < 0.55 else None
        device_accounts = int(1 + rng.poisson({"account_farm": 9.0, "sophisticated": 0.35}.get(arch, 2.0)))
        signups_ip_24h = int(1 + rng.poisson({"account_farm": 12.0, "sophisticated": 0.5}.get(arch, 2.0)))
        attempts_24h = int(1 + rng.poisson({"account_farm": 6.0, "sophisticated": 0.8}.get(arch, 2.5)))
        emulator = rng.random() < {"account_farm": 0.4, "sophisticated": 0.03}.get(arch, 0.12)
    return {
        "document_country": doc_country,
        "ip_country": ip_country,
        "gps_country": gps_country,
        "vpn_or_proxy": bool(vpn),
        "emulator": bool(emulator),
        "device_accounts": device_accounts,
        "signups_same_ip_24h": signups_ip_24h,
        "attempts_24h": attempts_24h,
    }


def _document(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    attempt_p = {"light": 0.25, "account_farm": 0.2}.get(arch, 0.93)
    if rng.random() > attempt_p:
        return None
    poor = rng.random() < (0.35 if arch == "struggling" else 0.1)
    base_conf = rng.beta(12, 1.5) if not poor else rng.beta(5, 2.5)
    family = str(rng.choice(["id_card_td1", "passport_td3", "driver_license_aamva"], p=[0.45, 0.35, 0.2]))
    has_mrz = family != "driver_license_aamva"
    forged = (not genuine) and arch in ("synthetic_identity", "account_farm") and rng.random() < 0.8
    subtle = (not genuine) and arch == "sophisticated"
    if forged:
        check_ok = rng.random() < 0.45
        agree = _clip01(rng.beta(5, 3))
        tamper = _clip01(rng.beta(4, 3))
    elif subtle:
        check_ok = rng.random() < 0.9
        agree = _clip01(rng.beta(12, 2))
        tamper = _clip01(rng.beta(2, 6))
    else:
        check_ok = rng.random() < (0.985 if not poor else 0.85)
        agree = _clip01(rng.beta(25, 1.2) if not poor else rng.beta(6, 2))
        tamper = _clip01(rng.beta(1.2, 14))
    expired = rng.random() < (0.03 if genuine else 0.12)
    confidences = {f: _r(_clip01(base_conf + rng.normal(0, 0.04))) for f in
                   ("id_number", "first_name", "last_name", "date_of_birth")}
    barcode = None
    if family == "driver_license_aamva":
        barcode = bool(rng.random() < (0.97 if not forged else 0.5))
    return {
        "family": family,
        "field_confidence": confidences,
        "mrz_present": has_mrz,
        "mrz_check_digits_ok": bool(check_ok) if has_mrz else None,
        "mrz_visual_agreement": _r(agree) if has_mrz else None,
        "barcode_agreement": barcode,
        "expired": bool(expired),
        "tamper_score": _r(tamper),
        "portrait_found": bool(rng.random() < (0.98 if not poor else 0.85)),
    }


def _face(rng: np.random.Generator, genuine: bool, arch: str, has_doc: bool) -> dict[str, Any] | None:
    if not has_doc or rng.random() > 0.95:
        return None
    quality = _clip01(rng.beta(8, 2) if arch != "struggling" else rng.beta(4, 3))
    if genuine:
        distance = rng.normal(0.36 + 0.12 * (1 - quality), 0.08)
    elif arch == "stolen_document":
        distance = rng.normal(0.66, 0.09)  # the thief's face against the victim's portrait
    elif arch == "replay_attack":
        distance = rng.normal(0.42, 0.1)  # a replayed video of the document holder
    else:
        distance = rng.normal(0.40, 0.09)  # own face on a forged or borrowed document
    distance = float(max(0.05, distance))
    return {"distance": _r(distance), "match": bool(distance < 0.6), "quality": _r(quality)}


def _liveness(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    if rng.random() > {"light": 0.3, "account_farm": 0.2}.get(arch, 0.85):
        return None
    if genuine:
        score = rng.beta(9, 1.5) if arch != "struggling" else rng.beta(4, 2)
    elif arch == "replay_attack":
        score = rng.beta(2.5, 3)
    elif arch == "sophisticated":
        score = rng.beta(8, 2)
    else:
        score = rng.beta(5, 2.5)
    return {"video": bool(rng.random() < 0.8), "score": _r(score), "passed": bool(score >= 0.5)}


def _biometric(rng: np.random.Generator, genuine: bool, arch: str) -> dict[str, Any] | None:
    # Platform authenticator user verification (WebAuthn UV flag) on the enrolled device.
    if rng.random() > (0.45 if genuine else {"sophisticated": 0.4}.get(arch, 0.15)):
        return None
    return {"verified": bool(rng.random() < (0.97 if genuine else 0.8)), "method": "webauthn_platform"}


def _provenance(rng: np.random.Generator, genuine: bool, arch: str, has_doc: bool) -> dict[str, Any] | None:
    if not has_doc:
        return None
    if arch == "replay_attack":
        replay, printed = rng.beta(5, 2.5), rng.beta(1.5, 8)
    elif arch == "stolen_document":
        replay, printed = rng.beta(2, 5), rng.beta(3, 4)
    elif genuine:
        replay, printed = rng.beta(1.2, 12), rng.beta(1.2, 12)
    else:
        replay, printed = rng.beta(1.5, 8), rng.beta(1.5, 8)
    signed = rng.random() < (0.97 if genuine else (0.85 if arch == "sophisticated" else 0.6))
    return {"capture_signed": bool(signed), "screen_replay_score": _r(replay), "print_attack_score": _r(printed)}


def scope_history(identity: str, split: str, seed: int, fraud_rate: float = 0.3) -> dict[str, Any]:
    """One user's synthetic scope history; depends only on ``(seed, identity)``."""
    rng = _rng(seed, identity)
    genuine = bool(rng.random() >= fraud_rate)
    arch = _pick(rng, GENUINE_ARCHETYPES if genuine else FRAUD_ARCHETYPES)
    doc_country = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
    document = _document(rng, genuine, arch)
    scopes = {
        "email": _email(rng, genuine, arch),
        "sms": _sms(rng, genuine, arch, doc_country),
        "sso": _sso(rng, genuine, arch),
        "domain": _domain(rng, genuine, arch),
        "document": document,
        "selfie": _face(rng, genuine, arch, document is not None),
        "liveness": _liveness(rng, genuine, arch),
        "biometric": _biometric(rng, genuine, arch),
        "provenance": _provenance(rng, genuine, arch, document is not None),
        "metadata": _metadata(rng, genuine, arch, doc_country),
    }
    return {
        "schema": SCOPE_SCHEMA_VERSION,
        "identity": identity,
        "split": split,
        "label": 1 if genuine else 0,
        "archetype": arch,
        "scopes": scopes,
    }


def scope_histories(identities: list[str], splits: list[str], seed: int, *,
                    fraud_rate: float = 0.3) -> list[dict]:
    """Synthetic web-scope histories, one JSON-ready dict per identity.

    Args:
        identities: synthetic person ids (``"id-0007"``); unique.
        splits: the split of each identity (``"train"``, ``"val"``, ``"test"``), same length.
        seed: generator seed; each record depends only on ``(seed, identity)``.
        fraud_rate: probability in ``[0, 1]`` that a user is a fraudster (label 0).

    Returns:
        ``[{"schema", "identity", "split", "label", "archetype", "scopes"}, ...]`` in input order.
        ``scopes`` keys: ``email``, ``sms``, ``sso``, ``domain``, ``document``, ``selfie``,
        ``liveness``, ``biometric``, ``provenance`` (each ``None`` when not attempted) and
        ``metadata`` (always present).

    Raises:
        ValueError: the lists differ in length, an identity repeats, or ``fraud_rate`` is out of range.
    """
    if len(identities) != len(splits):
        raise ValueError(f"{len(identities)} identities but {len(splits)} splits")
    if len(set(identities)) != len(identities):
        raise ValueError("identities must be unique")
    if not 0.0 <= fraud_rate <= 1.0:
        raise ValueError(f"fraud_rate must lie in [0, 1], got {fraud_rate}")
    return [scope_history(i, s, seed, fraud_rate) for i, s in zip(identities, splits)]
