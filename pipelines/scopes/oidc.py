"""OpenID Connect sign-on: verify an ID token's signature (issuer JWKS), issuer, audience, expiry and nonce.

Presets cover Google, Microsoft (any tenant), Facebook and any generic issuer found by
discovery (``/.well-known/openid-configuration``). Keys are fetched over HTTPS (plain HTTP is
accepted only for loopback hosts, for tests) and cached for ``jwks_cache_ttl_s``; an unknown
``kid`` triggers at most one refetch per ``jwks_min_refetch_s``. A token that fails a check
is a :class:`SsoResult` with a :class:`SsoFailure`; an unreachable key set is an
:class:`~veid.errors.AdapterError` (no judgement could be made).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

import jwt

from veid.errors import AdapterError, InputError
from veid.types import CheckResult

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class OidcProvider:
    """An issuer's verification settings.

    Attributes:
        name: short name used in evidence (``google``, ``microsoft``, ``facebook``, ``generic``).
        issuer: the exact ``iss`` value, or a template with ``{tenantid}`` filled from the ``tid`` claim.
        jwks_uri: where the issuer publishes its signing keys.
        algorithms: accepted signature algorithms (never ``none`` or HMAC).
        extra_issuers: other accepted spellings of ``iss`` (Google also issues ``accounts.google.com``).
    """

    name: str
    issuer: str
    jwks_uri: str
    algorithms: tuple[str, ...] = ("RS256",)
    extra_issuers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a.lower() == "none" or a.upper().startswith("HS")]
        if bad:
            raise InputError(f"provider {self.name}: algorithms {bad} are not allowed for ID tokens")


GOOGLE = OidcProvider("google", "https://accounts.google.com", "https://www.googleapis.com/oauth2/v3/certs",
                      ("RS256",), ("accounts.google.com",))
MICROSOFT = OidcProvider("microsoft", "https://login.microsoftonline.com/{tenantid}/v2.0",
                         "https://login.microsoftonline.com/common/discovery/v2.0/keys", ("RS256",))
FACEBOOK = OidcProvider("facebook", "https://www.facebook.com",
                        "https://www.facebook.com/.well-known/oauth/openid/jwks/", ("RS256",))
PRESETS = {p.name: p for p in (GOOGLE, MICROSOFT, FACEBOOK)}


@dataclass(frozen=True)
class OidcConfig:
    """ID-token policy (``params.yaml`` ``scopes.oidc``).

    Attributes:
        leeway_s: clock skew tolerated on ``exp``, ``iat`` and ``nbf``, in seconds.
        max_token_age_s: tokens issued longer ago than this are refused, in seconds.
        jwks_cache_ttl_s: how long a fetched key set is reused, in seconds.
        jwks_min_refetch_s: minimum seconds between refetches triggered by an unknown ``kid``.
        http_timeout_s: timeout of one key-set or discovery request, in seconds.
    """

    leeway_s: float = 60.0
    max_token_age_s: float = 3600.0
    jwks_cache_ttl_s: float = 3600.0
    jwks_min_refetch_s: float = 60.0
    http_timeout_s: float = 5.0


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise InputError(f"refusing to fetch keys over {parts.scheme or 'no scheme'}: {url}")


def http_get_json(url: str, timeout_s: float) -> Any:
    """GET ``url`` and parse JSON; HTTPS only (HTTP for loopback hosts).

    Raises:
        InputError: the URL is not HTTPS.
        AdapterError: the request failed or the body is not JSON.
    """
    _check_url(url)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (scheme checked above)
            return json.loads(resp.read(1 << 20))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AdapterError(f"cannot fetch {url}: {exc}") from exc


class JwksCache:
    """Fetches and caches JSON Web Key Sets per URI."""

    def __init__(self, cfg: OidcConfig, clock: Callable[[], float] = time.time,
                 fetch: Callable[[str, float], Any] = http_get_json) -> None:
        self.cfg = cfg
        self._clock = clock
        self._fetch = fetch
        self._sets: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self.fetches = 0

    def _load(self, uri: str) -> jwt.PyJWKSet:
        raw = self._fetch(uri, self.cfg.http_timeout_s)
        self.fetches += 1
        try:
            keyset = jwt.PyJWKSet.from_dict(raw)
        except (jwt.PyJWKSetError, jwt.InvalidKeyError, KeyError, TypeError) as exc:
            raise AdapterError(f"{uri}: not a usable JWKS: {exc}") from exc
        self._sets[uri] = (self._clock(), keyset)
        return keyset

    def get(self, uri: str, kid: str | None) -> jwt.PyJWK | None:
        """The key with ``kid`` (or the only key when ``kid`` is ``None``); ``None`` if absent."""
        now = self._clock()
        cached = self._sets.get(uri)
        keyset = cached[1] if cached and now - cached[0] < self.cfg.jwks_cache_ttl_s else self._load(uri)
        key = _find(keyset, kid)
        if key is None and now - self._sets[uri][0] >= self.cfg.jwks_min_refetch_s:
            key = _find(self._load(uri), kid)  # the issuer may have rotated its keys
        return key


def _find(keyset: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keyset.keys[0] if len(keyset.keys) == 1 else None
    return next((k for k in keyset.keys if k.key_id == kid), None)


def discover(issuer: str, cfg: OidcConfig, fetch: Callable[[str, float], Any] = http_get_json) -> OidcProvider:
    """Build a generic provider from the issuer's discovery document.

    Raises:
        AdapterError: the document cannot be fetched, or names another issuer.
    """
    doc = fetch(issuer.rstrip("/") + "/.well-known/openid-configuration", cfg.http_timeout_s)
    if not isinstance(doc, dict) or doc.get("issuer") != issuer or "jwks_uri" not in doc:
        raise AdapterError(f"{issuer}: discovery document missing or for another issuer")
    algs = tuple(a for a in doc.get("id_token_signing_alg_values_supported", ["RS256"])
                 if a.lower() != "none" and not a.upper().startswith("HS"))
    return OidcProvider("generic", issuer, str(doc["jwks_uri"]), algs or ("RS256",))


class SsoFailure(str, enum.Enum):
    """Why an ID token was refused."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    DISALLOWED_ALGORITHM = "disallowed_algorithm"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    TOO_OLD = "too_old"
    WRONG_NONCE = "wrong_nonce"
    MISSING_CLAIM = "missing_claim"


@dataclass(frozen=True)
class SsoResult:
    """Outcome of one sign-on (the scorer's ``sso`` scope); no personal data in clear.

    Attributes:
        verified: every check passed.
        provider: provider name.
        failure: the first failed check, or ``None``.
        subject_tag: truncated SHA-256 of ``iss|sub`` (stable per account; for reuse checks), or ``None``.
        email_verified: the issuer's ``email_verified`` claim (``False`` when absent).
        issued_at: ``iat`` in seconds since the epoch (0 when unknown).
    """

    verified: bool
    provider: str
    failure: SsoFailure | None = None
    subject_tag: str | None = None
    email_verified: bool = False
    issued_at: float = 0.0

    def check(self) -> CheckResult:
        return CheckResult(f"sso.{self.provider}", self.verified, 1.0 if self.verified else 0.0,
                           "verified" if self.verified else self.failure.value if self.failure else "failed")


class OidcVerifier:
    """Verifies ID tokens of one provider for one client (audience)."""

    def __init__(self, cfg: OidcConfig, provider: OidcProvider, client_id: str,
                 jwks: JwksCache | None = None, clock: Callable[[], float] = time.time) -> None:
        if not client_id:
            raise InputError("client_id (the expected audience) is empty")
        self.cfg = cfg
        self.provider = provider
        self.client_id = client_id
        self._jwks = jwks if jwks is not None else JwksCache(cfg, clock)
        self._clock = clock

    def _fail(self, failure: SsoFailure) -> SsoResult:
        return SsoResult(False, self.provider.name, failure)

    def _issuer_ok(self, claims: dict[str, Any]) -> bool:
        iss = claims.get("iss")
        if not isinstance(iss, str):
            return False
        if "{tenantid}" in self.provider.issuer:
            tid = claims.get("tid")
            if not isinstance(tid, str) or not re.fullmatch(r"[0-9a-fA-F-]{1,64}", tid):
                return False
            return iss == self.provider.issuer.replace("{tenantid}", tid)
        return iss in (self.provider.issuer, *self.provider.extra_issuers)

    def verify(self, token: str, nonce: str | None) -> SsoResult:
        """Check ``token``; ``nonce`` is the value the client sent in the authorization request.

        Raises:
            AdapterError: the issuer's key set could not be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            return self._fail(SsoFailure.MALFORMED)
        alg = header.get("alg")
        if alg not in self.provider.algorithms:
            return self._fail(SsoFailure.DISALLOWED_ALGORITHM)
        key = self._jwks.get(self.provider.jwks_uri, header.get("kid"))
        if key is None:
            return self._fail(SsoFailure.UNKNOWN_KEY)
        try:
            claims = jwt.decode(
                token, key=key, algorithms=[alg], audience=self.client_id,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False,
                         "require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidSignatureError:
            return self._fail(SsoFailure.BAD_SIGNATURE)
        except jwt.InvalidAudienceError:
            return self._fail(SsoFailure.WRONG_AUDIENCE)
        except jwt.MissingRequiredClaimError:
            return self._fail(SsoFailure.MISSING_CLAIM)
        except jwt.InvalidAlgorithmError:
            return self._fail(SsoFailure.DISALLOWED_ALGORITHM)
        except jwt.PyJWTError:
            return self._fail(SsoFailure.MALFORMED)
        return self._check_claims(claims, nonce)

    def _check_claims(self, claims: dict[str, Any], nonce: str | None) -> SsoResult:
        now, leeway = self._clock(), self.cfg.leeway_s
        if not self._issuer_ok(claims):
            return self._fail(SsoFailure.WRONG_ISSUER)
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.client_id:
            return self._fail(SsoFailure.WRONG_AUDIENCE)
        try:
            exp, iat = float(claims["exp"]), float(claims["iat"])
            nbf = float(claims.get("nbf", iat))
        except (TypeError, ValueError):
            return self._fail(SsoFailure.MALFORMED)
        if now >= exp + leeway:
            return self._fail(SsoFailure.EXPIRED)
        if now + leeway < iat or now + leeway < nbf:
            return self._fail(SsoFailure.NOT_YET_VALID)
        if now - iat > self.cfg.max_token_age_s + leeway:
            return self._fail(SsoFailure.TOO_OLD)
        if nonce is not None:
            got = claims.get("nonce")
            if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
                return self._fail(SsoFailure.WRONG_NONCE)
        email_verified = claims.get("email_verified") in (True, "true")
        tag = hashlib.sha256(f"{claims['iss']}|{claims['sub']}".encode()).hexdigest()[:32]
        return SsoResult(True, self.provider.name, None, tag, email_verified, iat)
