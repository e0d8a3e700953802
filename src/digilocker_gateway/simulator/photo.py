"""Tiny synthetic passport photos as real baseline JPEGs, written without an imaging library.

Each picture is a blocky silhouette (head and shoulders on a tinted background) at 48x64 pixels.
Every 8x8 block is one flat colour, so only the DC coefficient of each block is non-zero and the
encoder needs no DCT: that keeps it short and exact. The e-Aadhaar `Pht` element must hold a base64
JPEG starting `/9j/` (docs/reference/aadhaar-xml.md §1), and viewers must be able to open it, so the
file is a complete JFIF: SOI, APP0, DQT, SOF0, DHT, SOS, scan data, EOI.
"""

from __future__ import annotations

import functools
import struct

WIDTH = 48
HEIGHT = 64
_BLOCKS_X = WIDTH // 8
_BLOCKS_Y = HEIGHT // 8

# A flat quantiser of 8 makes the quantised DC coefficient equal to (sample - 128): the
# forward DCT's DC term of a flat 8x8 block is 8 * (value - 128).
_QUANTISER = 8

# ITU-T T.81 Annex K.3 DC tables (code-length counts for lengths 1..16, symbols 0..11).
_DC_LUMA_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_CHROMA_COUNTS = (0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)
_DC_SYMBOLS = tuple(range(12))
# Every AC run is "end of block", so the AC tables hold that one symbol with the 1-bit code 0.
_AC_COUNTS = (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_AC_SYMBOLS = (0x00,)

_Rgb = tuple[int, int, int]
_BACKGROUNDS: tuple[_Rgb, ...] = (
    (196, 214, 232),
    (222, 210, 190),
    (200, 226, 206),
    (226, 204, 214),
    (214, 214, 214),
)
_SKIN: tuple[_Rgb, ...] = ((198, 150, 112), (170, 122, 88), (224, 178, 140), (141, 98, 70))
_HAIR: _Rgb = (40, 32, 30)
_CLOTHES: tuple[_Rgb, ...] = ((52, 76, 128), (128, 40, 52), (40, 100, 80), (90, 90, 96))

# Block map of the silhouette, one character per 8x8 block: b background, h hair,
# s skin, c clothes.
_SILHOUETTE = (
    "bbbbbb",
    "bhhhhb",
    "bhsshb",
    "bssssb",
    "bbssbb",
    "bccccb",
    "cccccc",
    "cccccc",
)


def _huffman_codes(counts: tuple[int, ...], symbols: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes (T.81 Annex C): symbol -> (code, length)."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes[symbols[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


_DC_LUMA = _huffman_codes(_DC_LUMA_COUNTS, _DC_SYMBOLS)
_DC_CHROMA = _huffman_codes(_DC_CHROMA_COUNTS, _DC_SYMBOLS)
_AC_EOB = _huffman_codes(_AC_COUNTS, _AC_SYMBOLS)[0x00]


class _BitWriter:
    def __init__(self) -> None:
        self._out = bytearray()
        self._accumulator = 0
        self._bits = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self._accumulator = (self._accumulator << 1) | ((value >> shift) & 1)
            self._bits += 1
            if self._bits == 8:
                self._emit(self._accumulator)
                self._accumulator = 0
                self._bits = 0

    def _emit(self, byte: int) -> None:
        self._out.append(byte)
        if byte == 0xFF:
            # T.81 B.1.1.5: a 0xFF in entropy-coded data is followed by a stuffed zero byte.
            self._out.append(0x00)

    def finish(self) -> bytes:
        if self._bits:
            # Pad the last byte with one-bits (T.81 F.1.2.3).
            padding = 8 - self._bits
            self._emit(((self._accumulator << padding) | ((1 << padding) - 1)) & 0xFF)
            self._accumulator = 0
            self._bits = 0
        return bytes(self._out)


def _to_ycbcr(rgb: _Rgb) -> tuple[int, int, int]:
    # JFIF's full-range conversion.
    red, green, blue = rgb
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    chroma_blue = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
    chroma_red = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
    return tuple(max(0, min(255, round(c))) for c in (luma, chroma_blue, chroma_red))  # type: ignore[return-value]


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def _huffman_table(
    table_class: int, table_id: int, counts: tuple[int, ...], symbols: tuple[int, ...]
) -> bytes:
    return bytes([(table_class << 4) | table_id, *counts, *symbols])


def _encode_dc(writer: _BitWriter, difference: int, table: dict[int, tuple[int, int]]) -> None:
    category = abs(difference).bit_length()
    code, length = table[category]
    writer.write(code, length)
    if category:
        # T.81 F.1.2.1.1: negative differences are sent as (difference - 1) in `category` bits.
        bits = difference if difference > 0 else difference + (1 << category) - 1
        writer.write(bits, category)
    writer.write(*_AC_EOB)


def _block_colours(variant: int) -> list[_Rgb]:
    palette = {
        "b": _BACKGROUNDS[variant % len(_BACKGROUNDS)],
        "h": _HAIR,
        "s": _SKIN[variant % len(_SKIN)],
        "c": _CLOTHES[variant % len(_CLOTHES)],
    }
    return [palette[cell] for row in _SILHOUETTE for cell in row]


@functools.cache
def synthetic_photo_jpeg(variant: int = 0) -> bytes:
    """A small valid JPEG portrait; `variant` picks background, skin and clothes colours."""
    quant_table = bytes([_QUANTISER] * 64)
    header = b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xDB, b"\x00" + quant_table + b"\x01" + quant_table),
            _segment(
                0xC0,
                struct.pack(">BHHB", 8, HEIGHT, WIDTH, 3)
                + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]),
            ),
            _segment(
                0xC4,
                _huffman_table(0, 0, _DC_LUMA_COUNTS, _DC_SYMBOLS)
                + _huffman_table(1, 0, _AC_COUNTS, _AC_SYMBOLS)
                + _huffman_table(0, 1, _DC_CHROMA_COUNTS, _DC_SYMBOLS)
                + _huffman_table(1, 1, _AC_COUNTS, _AC_SYMBOLS),
            ),
            _segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])),
        )
    )
    writer = _BitWriter()
    predictions = [0, 0, 0]
    tables = (_DC_LUMA, _DC_CHROMA, _DC_CHROMA)
    # Without restart intervals every block is one MCU (no subsampling), in raster order.
    for colour in _block_colours(variant):
        for component, sample in enumerate(_to_ycbcr(colour)):
            value = (sample - 128) * 8 // _QUANTISER
            _encode_dc(writer, value - predictions[component], tables[component])
            predictions[component] = value
    return header + writer.finish() + b"\xff\xd9"
