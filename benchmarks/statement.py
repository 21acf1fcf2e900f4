"""Benchmark of a signed statement: render + sign, side by side with pyHanko signing alone.

Run with `make bench` (or `.venv/bin/python benchmarks/statement.py --help` for the knobs).
It prints figures, it asserts nothing: see docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts the script's folder first on sys.path, and benchmarks/queue.py would then
# shadow the standard library's `queue` (which redis and threading import).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gc
import hashlib
import io
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version

import reportlab
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from loket.adapters.db.migrate import upgrade
from loket.adapters.signing.pades import PadesSigner, SigningIdentity, load_signing_identity
from loket.adapters.signing.render import ReportLabRenderer
from loket.bootstrap import build
from loket.config import Settings
from loket.domain import statements as st
from loket.domain.catalogue import IdentificationLevel
from loket.services.statements import StatementContext, sign_statement

TARGET_P50_MS = 300.0
TARGET_RATIO = 2.0
QUESTIONS = (
    ("Wanneer is het gebeurd?", "When did it happen?", "Op 12 januari 2027 tussen 17:00 en 18:30"),
    (
        "Waar is het gebeurd?",
        "Where did it happen?",
        "Stationsplein 1, Genk, bij de fietsenstalling",
    ),
    ("Wat is er gestolen?", "What was stolen?", "Een blauwe Gazelle damesfiets met fietstas"),
    ("Framenummer", "Frame number", "GZ123456789"),
    ("Was de fiets op slot?", "Was the bicycle locked?", "Ja, met een ringslot en een kettingslot"),
    ("Wat is de waarde?", "What is it worth?", "ongeveer 850 euro"),
    ("Heeft u iets gezien?", "Did you see anything?", "Nee. " * 40),
    ("Wat is er gebeurd?", "What happened?", "Ik zette mijn fiets neer <b>en</b> ... " * 30),
)


def signature_png() -> bytes:
    image = Image.new("L", (480, 160), 255)
    ImageDraw.Draw(image).line([(20, 120), (120, 30), (200, 130), (330, 40), (460, 110)], 0, 4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def make_statement() -> st.Statement:
    dutch = st.StatementText("nl", tuple(st.Answer(nl, text) for nl, _en, text in QUESTIONS))
    english = st.StatementText("en", tuple(st.Answer(en, text) for _nl, en, text in QUESTIONS))
    return st.Statement(
        case_reference="PL0100-2027-000123",
        report_type="report.bicycle_theft",
        texts=(dutch, english),
        identification=IdentificationLevel.VERIFIED_ONLINE,
        officer=st.Officer("Inspecteur J. Peeters", 12),
        place=st.Place("Politiehuis Genk", "Genk", "Europe/Brussels"),
        made_at=datetime(2027, 1, 13, 13, 30, tzinfo=UTC),
        confirmation=st.Confirmation(signature_png=signature_png()),
    )


def stock_pyhanko_signer(identity: SigningIdentity) -> Callable[[bytes], bytes]:
    """Signing as pyHanko's documentation does it: SimpleSigner, same key, same metadata."""
    der = identity.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    certificate = asn1_x509.Certificate.load(
        identity.certificate.public_bytes(serialization.Encoding.DER)
    )
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="LoketStatement", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )

    def sign(pdf: bytes) -> bytes:
        output = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer, output=output)
        return output.getvalue()

    return sign


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="measured runs per path")
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="loket-bench-") as folder:
        settings = Settings(data_dir=Path(folder))
        identity = load_signing_identity(settings)
        renderer, signer = ReportLabRenderer(), PadesSigner(identity)
        container = build(settings)
        upgrade(container.engine)
        ctx = StatementContext(
            uow=container.statements.uow,
            clock=container.statements.clock,
            renderer=renderer,
            signer=signer,
        )
        statement = make_statement()
        unsigned = renderer.render(statement)
        stock = stock_pyhanko_signer(identity)

        def render_and_sign() -> None:
            document = signer.sign(renderer.render(statement))
            hashlib.sha256(document).hexdigest()

        paths: dict[str, Callable[[], object]] = {
            "render + sign": render_and_sign,
            "sign_statement (+ audit, SQLite)": lambda: sign_statement(
                ctx, statement, actor="staff:12"
            ),
            "render alone": lambda: renderer.render(statement),
            "sign alone (same PDF)": lambda: signer.sign(unsigned),
            "sign alone, stock SimpleSigner": lambda: stock(unsigned),
        }
        timings: dict[str, list[float]] = {name: [] for name in paths}
        for run in range(args.warmup + args.runs):
            # Paths take turns run by run, so a burst of other work weighs on each alike.
            for name, path in paths.items():
                gc.collect()
                started = time.perf_counter()
                path()
                elapsed = (time.perf_counter() - started) * 1000
                if run >= args.warmup:
                    timings[name].append(elapsed)
        signed_size = len(signer.sign(unsigned))
        container.dispose()

    print(
        f"statement benchmark: Python {platform.python_version()}, reportlab "
        f"{reportlab.Version}, pyHanko {version('pyHanko')}, {args.runs} runs, "
        f"RSA-{identity.key.key_size} key"  # type: ignore[union-attr]
    )
    print(
        f"statement: 2 parts (nl + en), {len(QUESTIONS)} answers, drawn signature; "
        f"PDF {len(unsigned) / 1024:.1f} KB unsigned, {signed_size / 1024:.1f} KB signed"
    )
    print()
    print(f"{'path':<36}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, values in timings.items():
        print(
            f"{name:<36}{percentile(values, 0.5):>9.1f}{percentile(values, 0.99):>9.1f}"
            f"{statistics.fmean(values):>9.1f}"
        )
    p50 = percentile(timings["render + sign"], 0.5)
    alone = percentile(timings["sign alone (same PDF)"], 0.5)
    stock_p50 = percentile(timings["sign alone, stock SimpleSigner"], 0.5)
    print()
    print(f"render + sign p50: {p50:.1f} ms (target < {TARGET_P50_MS:.0f} ms)")
    print(
        f"ratio render+sign / sign alone (p50): {p50 / alone:.2f}x (target <= {TARGET_RATIO:.0f}x);"
        f" against stock SimpleSigner: {p50 / stock_p50:.2f}x"
    )


if __name__ == "__main__":
    main()
