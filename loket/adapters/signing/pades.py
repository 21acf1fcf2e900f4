"""PAdES signatures with pyHanko, and the service's signing identity (configured or a demo one).

A real deployment configures a key and certificate issued for the service (LOKET_SIGNING_KEY_FILE,
LOKET_SIGNING_CERT_FILE, LOKET_SIGNING_KEY_PASSPHRASE). Without them, a self-signed demo
certificate is made on first start in the data folder: enough to show and test the flow, and
named so that nobody mistakes it for a police certificate.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko_certvalidator.registry import SimpleCertificateStore

from loket.adapters.secret_files import read_or_create
from loket.config import Settings

DEMO_IDENTITY_FILE = "signing-demo.pem"
DEMO_COMMON_NAME = "Loket demo statement signing - NOT A POLICE CERTIFICATE"
_DEMO_VALIDITY = timedelta(days=10 * 365)
SIGNATURE_FIELD = "LoketStatement"


class SigningIdentityError(RuntimeError):
    """The configured key or certificate cannot be used; the message says which and why."""


@dataclass(frozen=True)
class SigningIdentity:
    """The private key and its certificate chain (signer first)."""

    key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


def load_signing_identity(settings: Settings) -> SigningIdentity:
    """The configured identity, else the demo one from the data folder (made if missing)."""
    if settings.signing_key_file or settings.signing_cert_file:
        if not (settings.signing_key_file and settings.signing_cert_file):
            raise SigningIdentityError(
                "set both LOKET_SIGNING_KEY_FILE and LOKET_SIGNING_CERT_FILE, or neither"
            )
        passphrase = settings.signing_key_passphrase
        return _identity_from_pem(
            settings.signing_key_file.read_bytes(),
            settings.signing_cert_file.read_bytes(),
            passphrase.encode() if passphrase else None,
            source=str(settings.signing_key_file),
        )
    # Key and certificate in one file, so two nodes starting at once cannot mix halves.
    path = settings.data_dir / DEMO_IDENTITY_FILE
    data = read_or_create(path, lambda: b"".join(make_demo_identity()))
    return _identity_from_pem(data, data, None, source=str(path))


def _identity_from_pem(
    key_pem: bytes, cert_pem: bytes, passphrase: bytes | None, *, source: str
) -> SigningIdentity:
    try:
        key = serialization.load_pem_private_key(key_pem, password=passphrase)
        chain = tuple(x509.load_pem_x509_certificates(cert_pem))
    except (ValueError, TypeError) as error:
        raise SigningIdentityError(f"{source}: {error}") from None
    if not chain:
        raise SigningIdentityError(f"{source}: no certificate found")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningIdentityError(f"{source}: the key must be RSA or EC")
    public = (
        chain[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    if public != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise SigningIdentityError(f"{source}: the key does not belong to the first certificate")
    return SigningIdentity(key=key, chain=chain)


def make_demo_identity(now: datetime | None = None) -> tuple[bytes, bytes]:
    """A new self-signed key and certificate as PEM (key, certificate)."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Loket demo"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + _DEMO_VALIDITY)
        # Non-repudiation (content commitment) is what a signature on a statement asserts;
        # pyHanko's validator asks for it by default.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


class _LoadedKeySigner(signers.Signer):
    """pyHanko's in-memory signer, keeping the loaded key.

    SimpleSigner parses the key again for every signature (twice per PDF: once to size the
    signature); for an RSA-3072 key that check costs about 90 ms, most of a statement's time.
    """

    def __init__(self, key: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hash_algorithm)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algorithm))
        raise SigningIdentityError(f"signing with {mechanism} is not supported; use RSA or EC")


class PadesSigner:
    """Signs PDFs (PAdES baseline B) with the service's identity; implements StatementSigner.

    Without a time-stamping authority the signing time is the one the service states; a
    deployment that needs B-T adds a TSA to `signers.PdfSigner` here.
    """

    def __init__(self, identity: SigningIdentity, *, location: str = "Loket") -> None:
        self.identity = identity
        certificates = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in identity.chain
        ]
        self._signer = _LoadedKeySigner(
            identity.key,
            signing_cert=certificates[0],
            cert_registry=SimpleCertificateStore.from_certs(certificates),
        )
        self._metadata = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason="Proces-verbaal van aangifte",
            location=location,
        )

    def sign(self, pdf: bytes) -> bytes:
        output = io.BytesIO()
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        signers.PdfSigner(self._metadata, signer=self._signer).sign_pdf(writer, output=output)
        return output.getvalue()


class ConfiguredSigner:
    """The PadesSigner of the configured identity, loaded at start; the demo one on first use.

    A configured key that cannot be used stops the start with a clear message; the demo key
    is made only when a statement is first signed, so nodes that never sign make none.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._signer: PadesSigner | None = None
        if settings.signing_key_file or settings.signing_cert_file:
            self._signer = PadesSigner(load_signing_identity(settings))

    @property
    def signer(self) -> PadesSigner:
        with self._lock:
            if self._signer is None:
                self._signer = PadesSigner(load_signing_identity(self._settings))
            return self._signer

    def sign(self, pdf: bytes) -> bytes:
        return self.signer.sign(pdf)
