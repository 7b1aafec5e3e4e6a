"""Tests for device/IP/GPS metadata: offline geo lookups, country consistency, device reuse, velocity."""

from __future__ import annotations

import pytest

from pipelines.scopes.metadata import GeoLookup, MetadataAnalyzer, MetadataConfig, SessionMetadata
from veid.errors import InputError


@pytest.fixture(scope="module")
def geo() -> GeoLookup:
    return GeoLookup()


def test_gps_country_offline(geo) -> None:
    assert geo.gps(52.52, 13.40)[0] == "DE"          # Berlin
    assert geo.gps(48.8566, 2.3522)[0] == "FR"       # Paris
    assert geo.gps(-33.87, 151.21)[0] == "AU"        # Sydney
    assert geo.gps(-36.85, 174.76)[0] == "NZ"        # Auckland
    assert geo.gps(64.1466, -21.9426)[0] == "IS"     # Reykjavik
    country, km = geo.gps(-45.0, -140.0)             # South Pacific, far from any town
    assert country is None and km > 150
    with pytest.raises(InputError):
        geo.gps(91.0, 0.0)


def test_ip_country_offline(geo) -> None:
    assert geo.ip("81.2.69.160")[0] == "GB"
    country, asn = geo.ip("8.8.8.8")
    assert country == "US" and "GOOGLE" in asn.upper()
    assert geo.ip("10.1.2.3")[0] is None             # private
    assert geo.ip("2a01:4f8::1")[0] == "DE"          # IPv6 (Hetzner)
    with pytest.raises(InputError):
        geo.ip("999.1.1.1")


def _session(**over) -> SessionMetadata:
    base = dict(account_id="acct-1", ip="81.2.69.160", device_fingerprint="dev-A", timestamp=1_000_000.0,
                gps=(51.5074, -0.1278), document_country="GB")
    base.update(over)
    return SessionMetadata(**base)


def test_consistent_session(geo) -> None:
    ev = MetadataAnalyzer(MetadataConfig(), geo)(_session())
    assert (ev.document_country, ev.ip_country, ev.gps_country) == ("GB", "GB", "GB")
    assert not ev.vpn_or_proxy and ev.device_accounts == 1 and ev.attempts_24h == 1


def test_inconsistent_and_hosting(geo) -> None:
    an = MetadataAnalyzer(MetadataConfig(), geo)
    ev = an(_session(ip="5.9.0.1", gps=(40.7128, -74.0060), document_country="FR"))  # Hetzner IP, GPS New York
    assert ev.ip_country == "DE" and ev.gps_country == "US" and ev.document_country == "FR"
    assert ev.vpn_or_proxy
    ev = an(_session(account_id="acct-2", gps=(51.5, -0.12), gps_accuracy_m=20000))
    assert ev.gps_country is None  # too inaccurate to use


def test_device_reuse_and_velocity(geo) -> None:
    an = MetadataAnalyzer(MetadataConfig(velocity_window_s=3600), geo)
    for i in range(4):
        ev = an(_session(account_id=f"acct-{i}", timestamp=1_000_000.0 + i))
    assert ev.device_accounts == 4 and ev.signups_same_ip_24h == 4
    ev = an(_session(account_id="acct-0", timestamp=1_000_010.0))
    assert ev.device_accounts == 4 and ev.attempts_24h == 2 and ev.signups_same_ip_24h == 4
    ev = an(_session(account_id="acct-0", device_fingerprint="dev-B", timestamp=1_000_000.0 + 7200))
    assert ev.device_accounts == 1 and ev.attempts_24h == 1 and ev.signups_same_ip_24h == 1  # window passed


def test_bad_session(geo) -> None:
    an = MetadataAnalyzer(MetadataConfig(), geo)
    with pytest.raises(InputError):
        an(_session(device_fingerprint=""))
    with pytest.raises(InputError):
        an(_session(document_country="GBR"))
