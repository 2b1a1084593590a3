"""`booth codes --drop drop.toml --count 200 --out codes.pdf|csv [--sku ID] [--burst NAME]`: sticker codes.

Each code sells one unit of its product, once (see `booth.core.shop.codes` for the format). The PDF is a
printable A4 sheet of labels — a QR code a USB scanner reads, the code in large monospaced type for
typing, the product and burst — drawn with Qt's QPdfWriter: segno writes one QR per PDF file, not a page
of many, and Qt (already Booth's toolkit) lays out the page with the bundled fonts, as vectors.
The CSV has one row per code for a label printer or a spreadsheet.

The codes are signed with the `codes_secret` in the shop credentials file (made on first use); every
booth that redeems them needs that file.
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from booth.core.config import ConfigError, load_config
from booth.core.shop.codes import StickerCode, make_codes
from booth.core.shop.settings import CredentialsError

if TYPE_CHECKING:
    from PySide6.QtGui import QFont, QPainter
    from segno import QRCode

MAX_CODES = 10_000
COLUMNS, ROWS = 4, 6  # labels per A4 page: 47.5 × 45 mm each


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drop", dest="codes_drop", type=Path, metavar="FILE", required=True,
                        help="the drop file (TOML): its products, and [shop] for where the secret lives")
    parser.add_argument("--count", type=int, default=100, metavar="N", help=f"how many codes (1…{MAX_CODES})")
    parser.add_argument("--out", type=Path, metavar="PATH", required=True, help="codes.pdf (labels) or codes.csv")
    parser.add_argument("--sku", metavar="ID", help="the product the codes sell (default: the drop's only product)")
    parser.add_argument("--burst", default="", metavar="NAME", help="bind the codes to one selling burst")
    parser.add_argument("--credentials", type=Path, metavar="FILE",
                        help="credentials file with codes_secret (default: [shop] credentials, else the user one)")


def run(args: argparse.Namespace) -> int:
    from booth.shop.credentials import codes_secret

    drop_path: Path = args.codes_drop
    out: Path = args.out
    if out.suffix.lower() not in (".pdf", ".csv"):
        return _fail(f"--out must end in .pdf or .csv, got {out.name!r}")
    if not 1 <= args.count <= MAX_CODES:
        return _fail(f"--count must be between 1 and {MAX_CODES}, got {args.count}")
    try:
        config = load_config(drop_path)
    except ConfigError as exc:
        return _fail(str(exc))
    skus = {s.id: s for s in config.drop.skus}
    sku_id = args.sku or (next(iter(skus)) if len(skus) == 1 else None)
    if sku_id is None:
        return _fail(f"this drop sells {len(skus)} products: choose one with --sku ({', '.join(skus)})")
    if sku_id not in skus:
        return _fail(f"--sku {sku_id!r} is not in {drop_path.name} (products: {', '.join(skus)})")
    burst = args.burst.strip()
    credentials = args.credentials or (config.shop.credentials_path if config.shop else None)
    try:
        secret, made = codes_secret(credentials)
    except CredentialsError as exc:
        return _fail(str(exc))
    codes = make_codes(secret, sku_id, burst, args.count, secrets.token_bytes)
    name = skus[sku_id].name
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            write_csv(out, codes, name)
            pages = 0
        else:
            pages = write_pdf(out, codes, name, config.drop.title)
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}")
    where = f" ({pages} page{'s' if pages != 1 else ''})" if pages else ""
    print(f"{len(codes)} codes for {name}{f' (burst {burst})' if burst else ''} → {out}{where}")
    if made:
        from booth.shop.credentials import default_credentials_path

        print(f"Made a codes secret in {credentials or default_credentials_path()}: copy that file to every booth "
              "that redeems these codes.")  # fmt: skip
    return 0


def _fail(message: str) -> int:
    sys.stderr.write(f"booth codes: {message}\n")
    return 2


def write_csv(path: Path, codes: list[StickerCode], sku_name: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "sku", "product", "burst", "qr_payload"])
        for code in codes:
            writer.writerow([code.display, code.sku_id, sku_name, code.burst, code.display])


def write_pdf(path: Path, codes: list[StickerCode], sku_name: str, title: str) -> int:
    """A4 sheets of labels; returns the number of pages."""
    import segno
    from PySide6.QtCore import QMarginsF, QRectF, Qt
    from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPageLayout, QPageSize, QPainter, QPdfWriter

    from booth.resources import resource

    if QGuiApplication.instance() is None:
        if sys.platform == "linux" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a command, not a window: no screen needed
        _app = QGuiApplication([sys.argv[0]])  # fonts and painting need one alive
    families: dict[str, str] = {}
    for key, file in (("mono", "DejaVuSansMono-Bold.ttf"), ("sans", "DejaVuSans-Bold.ttf")):
        font_id = QFontDatabase.addApplicationFont(str(resource("fonts", file)))
        found = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        families[key] = found[0] if found else "Monospace"

    writer = QPdfWriter(str(path))
    writer.setTitle(f"{title}: sticker codes for {sku_name}")
    writer.setCreator("Booth")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(10, 10, 10, 10), QPageLayout.Unit.Millimeter))  # fmt: skip
    mm = 300 / 25.4
    painter = QPainter(writer)
    try:
        page_rect = writer.pageLayout().paintRectPixels(300)
        per_page = COLUMNS * ROWS
        pages = (len(codes) + per_page - 1) // per_page
        cell_w = page_rect.width() / COLUMNS
        header_h = 12 * mm
        cell_h = (page_rect.height() - header_h) / ROWS
        for page in range(pages):
            if page:
                writer.newPage()
            painter.setPen(QColor("black"))
            painter.setFont(_font(families["sans"], 9))
            burst = codes[0].burst
            painter.drawText(QRectF(0, 0, page_rect.width(), header_h), Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignVCenter,
                             f"{title} — {sku_name}{f' — burst {burst}' if burst else ''} — each code sells one, once "
                             f"— page {page + 1} of {pages}")  # fmt: skip
            for index, code in enumerate(codes[page * per_page:(page + 1) * per_page]):
                col, row = index % COLUMNS, index // COLUMNS
                cell = QRectF(col * cell_w, header_h + row * cell_h, cell_w, cell_h)
                painter.setPen(QColor(190, 190, 190))
                painter.drawRect(cell.adjusted(1 * mm, 1 * mm, -1 * mm, -1 * mm))  # cut guide
                _draw_qr(painter, segno.make(code.display, error="m", micro=False),
                         cell.center().x() - 14 * mm, cell.top() + 3 * mm, 28 * mm)  # fmt: skip
                painter.setPen(QColor("black"))
                painter.setFont(_font(families["mono"], 8.5))
                painter.drawText(QRectF(cell.left(), cell.top() + 31.5 * mm, cell.width(), 5 * mm),
                                 Qt.AlignmentFlag.AlignCenter, code.display)  # fmt: skip
                painter.setFont(_font(families["sans"], 6))
                label = sku_name + (f" · {code.burst}" if code.burst else "")
                painter.drawText(QRectF(cell.left(), cell.top() + 37 * mm, cell.width(), 4 * mm),
                                 Qt.AlignmentFlag.AlignCenter, label)  # fmt: skip
    finally:
        painter.end()
    return pages


def _font(family: str, points: float) -> QFont:
    from PySide6.QtGui import QFont

    font = QFont(family)
    font.setPointSizeF(points)
    return font


def _draw_qr(painter: QPainter, qr: QRCode, x: float, y: float, size: float) -> None:
    """The QR as filled rectangles (vector, sharp at any printer resolution), quiet zone included."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor

    rows = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = size / len(rows)
    black = QColor("black")
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                painter.fillRect(QRectF(x + start * module, y + r * module, (c - start) * module, module), black)
            else:
                c += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booth codes", description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
