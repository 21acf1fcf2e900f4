"""Render the info screen's spoken calls: one audio sprite and its index per language.

The screen says "Ticket H H 7, please go to booth 2" by playing pieces of one pre-rendered
file back to back (no online speech service, nothing to install on the screen). Pieces:
the two phrases, the letters A-Z, the numbers 0-99 and the hundreds 100-900.

Needs espeak-ng and sox (with Ogg Vorbis). Run from the repository root:

    python scripts/render_announcements.py            # all languages
    python scripts/render_announcements.py nl en      # some

Output: loket/web/static/audio/<lang>/announcements.ogg and announcements.json, which maps
each piece to [start, duration] in seconds. One file per language rather than one per
piece, because every Ogg Vorbis file carries ~3.5 KB of codebooks: 140 small files would
weigh three times the sound itself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import string
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "loket" / "web" / "static" / "audio"
# Telephone-plus quality: speech stays clear on a TV speaker, and a language fits in ~200 KB.
SAMPLE_RATE = 11025
VORBIS_QUALITY = "-1"
# Between pieces in the sprite, so decoding never bleeds one piece into the next.
GAP_SECONDS = 0.1
# Slower than espeak's default 175 words per minute: the hall is noisy and echoes.
WORDS_PER_MINUTE = 150

VOICES = {"nl": "nl", "en": "en-gb", "fr": "fr-be", "de": "de"}

PHRASES = {
    "nl": {"ticket": "Nummer", "go_to": "gaat u naar cabine", "your_turn": "is aan de beurt"},
    "en": {"ticket": "Ticket", "go_to": "please go to booth", "your_turn": "it is your turn"},
    "fr": {
        "ticket": "Numéro",
        "go_to": "veuillez vous rendre à la cabine",
        "your_turn": "c'est votre tour",
    },
    "de": {"ticket": "Nummer", "go_to": "bitte zur Kabine", "your_turn": "Sie sind an der Reihe"},
}


def pieces(language: str) -> dict[str, str]:
    """Piece name -> SSML text to speak."""
    found = {name: f"<speak>{text}</speak>" for name, text in PHRASES[language].items()}
    for letter in string.ascii_uppercase:
        found[f"letter_{letter.lower()}"] = (
            f'<speak><say-as interpret-as="characters">{letter}</say-as></speak>'
        )
    for number in range(100):
        found[f"n{number}"] = f"<speak>{number}</speak>"
    for hundreds in range(1, 10):
        found[f"h{hundreds}"] = f"<speak>{hundreds * 100}</speak>"
    return found


def run(tool: str, *arguments: str) -> None:
    """Run espeak-ng or sox by absolute path; arguments come from this script only."""
    executable = shutil.which(tool)
    if executable is None:
        raise SystemExit(f"{tool} is not installed (apt-get install espeak-ng sox libsox-fmt-all)")
    subprocess.run([executable, *arguments], check=True)  # noqa: S603


def render_piece(voice: str, ssml: str, folder: Path, name: str) -> bytes:
    """The piece as 16-bit mono PCM at SAMPLE_RATE, silence trimmed at both ends."""
    raw = folder / f"{name}.raw.wav"
    trimmed = folder / f"{name}.wav"
    run("espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-m", "-w", str(raw), ssml)
    # Trim the silence espeak leaves at both ends: the screen sets its own pauses.
    run(
        "sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(trimmed),
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
    )  # fmt: skip
    with wave.open(str(trimmed), "rb") as handle:
        return handle.readframes(handle.getnframes())


def render_language(language: str) -> tuple[int, int]:
    voice = VOICES[language]
    target = OUTPUT / language
    target.mkdir(parents=True, exist_ok=True)
    gap = b"\0\0" * int(GAP_SECONDS * SAMPLE_RATE)
    index: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        frames = bytearray(gap)
        for name, ssml in pieces(language).items():
            pcm = render_piece(voice, ssml, folder, name)
            start = len(frames) // 2
            frames += pcm
            index[name] = [round(start / SAMPLE_RATE, 4), round(len(pcm) // 2 / SAMPLE_RATE, 4)]
            frames += gap
        sprite = folder / "sprite.wav"
        with wave.open(str(sprite), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE)
            handle.writeframes(bytes(frames))
        sound = target / "announcements.ogg"
        run("sox", str(sprite), "-C", VORBIS_QUALITY, str(sound))
    description = {
        "language": language,
        "voice": f"espeak-ng {voice}",
        "pieces": index,
    }
    (target / "announcements.json").write_text(
        json.dumps(description, separators=(",", ":"), sort_keys=True) + "\n"
    )
    return sound.stat().st_size, len(index)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("languages", nargs="*", metavar="LANGUAGE", help=" ".join(sorted(VOICES)))
    arguments = parser.parse_args(argv)
    unknown = sorted(set(arguments.languages) - set(VOICES))
    if unknown:
        parser.error(f"no voice for {', '.join(unknown)}")
    total = 0
    for language in arguments.languages or sorted(VOICES):
        size, count = render_language(language)
        total += size
        print(f"{language}: {count} pieces, {size / 1024:.0f} KB")
    print(f"total: {total / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
