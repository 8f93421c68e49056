"""Regenerate the example course's binary materials: the PDF lecture and the audio lecture.

The generated files are committed, so running the example needs neither this script nor
espeak-ng. Run it only after changing the lecture texts below::

    python3 batch/examples/make_materials.py      # needs espeak-ng (apt-get install espeak-ng)
"""

from __future__ import annotations

import subprocess
import tempfile
import textwrap
from pathlib import Path

MATERIALS = Path(__file__).resolve().parent / "materials"

HASH_TABLES = """\
Lecture 3: Hash Tables

A hash table stores key and value pairs and finds the value for a key in constant time on average.
It keeps an array of buckets. A hash function turns each key into a whole number, and that number
modulo the array length selects the bucket where the pair is stored.

Two different keys can land in the same bucket. This is called a collision. With separate chaining
every bucket holds a small linked list of pairs, as in lecture 1. With open addressing the table
probes the next free slot of the array instead.

The load factor is the number of stored pairs divided by the number of buckets. When the load
factor grows past a threshold, such as 0.75, the table allocates a larger array and rehashes
every pair into it. Like the growth of a dynamic array, resizing is rare, so insertion stays
constant time on average.

A good hash function spreads keys evenly over the buckets and is fast to compute. Equal keys must
always produce equal hashes, which is why mutable objects such as Python lists cannot be keys.

Hash tables power Python dictionaries and sets, database indexes and caches. They do not keep
keys in order: when a program needs the smallest key or a range of keys, a balanced search tree
is the better choice.

Key terms: hash function, bucket, collision, separate chaining, open addressing, load factor,
rehashing.
"""

TREES_SPEECH = (
    "Lecture four: search trees. "
    "A search tree keeps its keys in order. "
    "Every node has at most two children. "
    "Smaller keys go to the left, and larger keys go to the right. "
    "To find a key, start at the root, and walk down the tree. "
    "When the tree is balanced, every search is fast."
)


def _pdf_escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(text: str, path: Path) -> None:
    """A minimal, valid one-font PDF with a real text layer (no PDF library needed)."""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        lines += [*textwrap.wrap(" ".join(paragraph.split()), 90), ""]
    per_page = 48
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    objects: list[bytes] = []
    font_id = 3
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for index, page in enumerate(pages):
        ops = ["BT", "/F1 10 Tf", "14 TL", "56 790 Td"]
        ops += [f"({_pdf_escape(line)}) '" for line in page]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {page_ids[index] + 1} 0 R >>"
            ).encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def write_speech(text: str, path: Path) -> None:
    """Synthesise ``text`` with espeak-ng, then encode 16 kHz mono MP3 (small enough to commit)."""
    import av

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)
        with av.open(str(wav)) as source, av.open(str(path), "w", format="mp3") as target:
            stream = target.add_stream("libmp3lame", rate=16000)
            stream.layout = "mono"
            stream.bit_rate = 32000
            resampler = av.AudioResampler(format="s16p", layout="mono", rate=16000)
            for frame in source.decode(audio=0):
                for out_frame in resampler.resample(frame):
                    target.mux(stream.encode(out_frame))
            for out_frame in resampler.resample(None):
                target.mux(stream.encode(out_frame))
            target.mux(stream.encode(None))


def main() -> None:
    write_pdf(HASH_TABLES, MATERIALS / "03-hash-tables.pdf")
    write_speech(TREES_SPEECH, MATERIALS / "04-search-trees.mp3")


if __name__ == "__main__":
    main()
