"""Size limits for documents users bring, and a zip opener that enforces them before reading."""

from __future__ import annotations

import io
import zipfile

from core.errors import CorpusError

# A 400-page PDF with figures is ~20 MB; past 50 MB a file is a scan or a media dump, which
# the text extractors below cannot use anyway, so it is refused before it is read.
MAX_FILE_BYTES = 50_000_000
# A PDF's page count is checked before any page is parsed: 5,000 pages is ~12 MB of text,
# far past what one corpus document may hold (`prototype.corpus.MAX_DOC_BYTES`).
MAX_PDF_PAGES = 5_000
# Zip containers (DOCX, and .zip archives of documents) are checked on their declared sizes
# before anything is decompressed; `zipfile` never reads past an entry's declared size, so a
# bomb that lies about its sizes fails its CRC check instead of filling memory. A DOCX is a
# few dozen entries that expand to ~10x the file; 200 MB covers a 50 MB file at 4x.
MAX_ZIP_ENTRIES = 2_100  # the corpus limit (2,000 documents) plus folders and stray files
MAX_UNZIPPED_BYTES = 200_000_000
# Text and XML compress about 10:1; a ratio past 100:1 on a large entry is a bomb's signature.
MAX_RATIO = 100
RATIO_MIN_BYTES = 1_000_000  # small entries (a run of spaces) may compress better than that


def open_zip(label: str, data: bytes, what: str = "archive") -> zipfile.ZipFile:
    """The zip in `data`, after checking entry count, declared sizes and compression ratio;
    CorpusError naming `label` otherwise."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise CorpusError(f"{label}: not a valid {what} (corrupt zip: {e})") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise CorpusError(
            f"{label}: {what} has {len(infos):,} entries, the limit is {MAX_ZIP_ENTRIES:,}"
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise CorpusError(
            f"{label}: {what} expands to {total:,} bytes, the limit is {MAX_UNZIPPED_BYTES:,} "
            "(a zip bomb?)"
        )
    for i in infos:
        ratio = i.file_size // max(i.compress_size, 1)
        if i.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise CorpusError(
                f"{label}: {what} entry `{i.filename}` expands {ratio:,}x, the limit is "
                f"{MAX_RATIO}x (a zip bomb?)"
            )
    return zf
