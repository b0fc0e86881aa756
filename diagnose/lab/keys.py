"""Key material of the lab: a fresh CA and TLS certificate per start, cached RSA keys.

TLS uses EC P-256 keys (instant to generate). RSA keys (the Key Vault key must be
RSA 3072, the token-signing key and the client certificate's key RSA 2048) are
slow to generate, so they are generated once and cached under
`$XDG_CACHE_HOME/diagnose/lab/` (default `~/.cache/diagnose/lab/`).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from diagnose.files import write_atomic

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def cache_dir() -> Path:
    """Where the lab keeps its RSA keys between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "diagnose" / "lab"


_LOADED: dict[tuple[str, int], rsa.RSAPrivateKey] = {}


def cached_rsa_key(name: str, bits: int) -> rsa.RSAPrivateKey:
    """Load the cached RSA key `name`, or generate (and cache) it when missing or unreadable.

    The file is the lab's own (mode 0600), so the slow RSA consistency check is skipped;
    a key loaded once is kept for the life of the process.
    """
    if (name, bits) in _LOADED:
        return _LOADED[(name, bits)]
    path = cache_dir() / f"{name}-rsa{bits}.pem"
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size == bits:
            _LOADED[(name, bits)] = key
            return key
    except (OSError, ValueError, TypeError):
        pass
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    _LOADED[(name, bits)] = key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pem_private(key), mode=0o600)
    except OSError:
        pass  # a read-only home only costs the next start the generation time
    return key


def b64u(data: bytes) -> str:
    """base64url without padding (JWK and Key Vault's encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u_uint(n: int) -> str:
    """A big-endian unsigned integer (an RSA modulus or exponent) as JWK writes it."""
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def pem_private(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Certificates:
    """The CA, the server certificate (every service address in its SANs) and their keys."""

    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    server: x509.Certificate
    server_key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "diagnose lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_certificates(hosts: list[str]) -> Certificates:
    """A CA generated now, and a server certificate it signs for `hosts` (IPs or names)."""
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("diagnose lab CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0] if hosts else "localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Certificates(ca=ca, ca_key=ca_key, server=server, server_key=server_key)


def make_client_certificate(key: rsa.RSAPrivateKey, subject: str) -> x509.Certificate:
    """A self-signed certificate for an application credential (as uploaded to an app registration)."""
    now = dt.datetime.now(dt.UTC)
    name = _name(subject)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
