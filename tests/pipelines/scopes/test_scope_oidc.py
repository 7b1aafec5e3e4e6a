"""Tests for OpenID Connect ID-token verification against a local JWKS HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pipelines.scopes.oidc import (
    FACEBOOK, GOOGLE, MICROSOFT, JwksCache, OidcConfig, OidcProvider, OidcVerifier, SsoFailure, discover,
    http_get_json,
)
from veid.errors import AdapterError, InputError

NOW = 1_800_000_000.0
CLIENT = "veid-client-123"


class _Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


def _key(kid: str):
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(priv.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return priv, jwk


@pytest.fixture(scope="module")
def keys():
    return _key("k1"), _key("k2")


@pytest.fixture()
def jwks_server(keys):
    (_, jwk1), _ = keys
    state = {"jwks": {"keys": [jwk1]}, "hits": 0, "issuer": None}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            state["hits"] += 1
            if self.path == "/jwks":
                body = json.dumps(state["jwks"]).encode()
            elif self.path == "/.well-known/openid-configuration":
                body = json.dumps({"issuer": state["issuer"], "jwks_uri": state["issuer"] + "/jwks",
                                   "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"]}).encode()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    state["issuer"] = base
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base, state
    finally:
        server.shutdown()
        server.server_close()


def _token(priv, kid="k1", **over):
    claims = {"iss": "https://accounts.google.com", "sub": "110169484474386276334", "aud": CLIENT,
              "iat": int(NOW) - 10, "exp": int(NOW) + 3600, "nonce": "n-0S6_WzA2Mj", "email_verified": True}
    claims.update(over)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, priv, algorithm="RS256", headers={"kid": kid})


def _verifier(base, provider=GOOGLE, clock=None):
    clock = clock or _Clock()
    prov = OidcProvider(provider.name, provider.issuer, base + "/jwks", provider.algorithms, provider.extra_issuers)
    cfg = OidcConfig()
    return OidcVerifier(cfg, prov, CLIENT, JwksCache(cfg, clock), clock), clock


def test_valid_google_token(keys, jwks_server) -> None:
    (priv, _), _ = keys
    base, _ = jwks_server
    v, _ = _verifier(base)
    res = v.verify(_token(priv), "n-0S6_WzA2Mj")
    assert res.verified and res.failure is None and res.email_verified and res.subject_tag
    assert v.verify(_token(priv, iss="accounts.google.com"), "n-0S6_WzA2Mj").verified
    assert res.check().passed


@pytest.mark.parametrize("case, failure", [
    ("bad_signature", SsoFailure.BAD_SIGNATURE),
    ("wrong_audience", SsoFailure.WRONG_AUDIENCE),
    ("expired", SsoFailure.EXPIRED),
    ("wrong_nonce", SsoFailure.WRONG_NONCE),
    ("missing_nonce", SsoFailure.WRONG_NONCE),
    ("wrong_issuer", SsoFailure.WRONG_ISSUER),
    ("future", SsoFailure.NOT_YET_VALID),
    ("too_old", SsoFailure.TOO_OLD),
    ("unknown_kid", SsoFailure.UNKNOWN_KEY),
    ("hs256", SsoFailure.DISALLOWED_ALGORITHM),
    ("garbage", SsoFailure.MALFORMED),
    ("no_sub", SsoFailure.MISSING_CLAIM),
])
def test_token_failures(keys, jwks_server, case, failure) -> None:
    (priv, _), (other, _) = keys
    base, _ = jwks_server
    v, _ = _verifier(base)
    token = {
        "bad_signature": lambda: _token(other),  # signed by another key under kid k1
        "wrong_audience": lambda: _token(priv, aud="someone-else"),
        "expired": lambda: _token(priv, iat=int(NOW) - 7200, exp=int(NOW) - 3600),
        "wrong_nonce": lambda: _token(priv, nonce="replayed"),
        "missing_nonce": lambda: _token(priv, nonce=None),
        "wrong_issuer": lambda: _token(priv, iss="https://evil.example"),
        "future": lambda: _token(priv, iat=int(NOW) + 600),
        "too_old": lambda: _token(priv, iat=int(NOW) - 86400, exp=int(NOW) + 60),
        "unknown_kid": lambda: _token(priv, kid="k9"),
        "hs256": lambda: jwt.encode({"sub": "x"}, "secret-secret-secret-secret-1234", algorithm="HS256"),
        "garbage": lambda: "not.a.token",
        "no_sub": lambda: _token(priv, sub=None),
    }[case]()
    res = v.verify(token, "n-0S6_WzA2Mj")
    assert not res.verified and res.failure is failure
    assert not res.check().passed and res.check().reason == failure.value


def test_microsoft_tenant_issuer(keys, jwks_server) -> None:
    (priv, _), _ = keys
    base, _ = jwks_server
    v, _ = _verifier(base, MICROSOFT)
    tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
    ok = _token(priv, iss=f"https://login.microsoftonline.com/{tid}/v2.0", tid=tid)
    assert v.verify(ok, "n-0S6_WzA2Mj").verified
    other = _token(priv, iss=f"https://login.microsoftonline.com/{tid}/v2.0", tid="00000000-0000-0000-0000-000000000000")
    assert v.verify(other, "n-0S6_WzA2Mj").failure is SsoFailure.WRONG_ISSUER


def test_facebook_preset(keys, jwks_server) -> None:
    (priv, _), _ = keys
    base, _ = jwks_server
    v, _ = _verifier(base, FACEBOOK)
    assert v.verify(_token(priv, iss="https://www.facebook.com"), "n-0S6_WzA2Mj").verified
    assert v.verify(_token(priv), "n-0S6_WzA2Mj").failure is SsoFailure.WRONG_ISSUER


def test_jwks_cache_and_rotation(keys, jwks_server) -> None:
    (priv1, jwk1), (priv2, jwk2) = keys
    base, state = jwks_server
    v, clock = _verifier(base)
    assert v.verify(_token(priv1), "n-0S6_WzA2Mj").verified
    assert v.verify(_token(priv1), "n-0S6_WzA2Mj").verified
    assert state["hits"] == 1  # cached
    state["jwks"] = {"keys": [jwk1, jwk2]}
    # Unknown kid right after a fetch: no refetch storm, token refused.
    assert v.verify(_token(priv2, kid="k2"), "n-0S6_WzA2Mj").failure is SsoFailure.UNKNOWN_KEY
    clock.t += 120
    assert v.verify(_token(priv2, kid="k2", iat=int(clock.t) - 5), "n-0S6_WzA2Mj").verified
    assert state["hits"] == 2


def test_generic_discovery(keys, jwks_server) -> None:
    (priv, _), _ = keys
    base, _ = jwks_server
    prov = discover(base, OidcConfig())
    assert prov.name == "generic" and prov.algorithms == ("RS256",)  # HS256 and none dropped
    clock = _Clock()
    v = OidcVerifier(OidcConfig(), prov, CLIENT, JwksCache(OidcConfig(), clock), clock)
    assert v.verify(_token(priv, iss=base), "n-0S6_WzA2Mj").verified


def test_transport_rules() -> None:
    with pytest.raises(InputError):
        http_get_json("http://example.org/jwks", 1.0)  # plain HTTP off loopback
    with pytest.raises(AdapterError):
        http_get_json("http://127.0.0.1:9/jwks", 1.0)  # nothing listening
    with pytest.raises(InputError):
        OidcProvider("x", "https://x", "https://x/jwks", ("HS256",))
