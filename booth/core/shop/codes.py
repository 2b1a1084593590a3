"""Sticker codes: one-time codes bound to a SKU (and optionally a burst), printed as QR and text.

A code looks like `K7QM-2XD9-P4TR-HB6C`: 16 characters from a 30-letter alphabet in four groups.

- 10 random characters (≈ 49 bits): codes cannot be guessed from each other.
- 5 characters of HMAC-SHA256 over (SKU, burst, random part) with the drop's codes secret: the code
  itself says which product it is for, so any booth holding the secret can redeem it without a list,
  and nobody without the secret can make one (one chance in ≈ 2^24 per try, online only).
- 1 check character (Luhn mod 30): a mistyped character or two swapped neighbours is refused before
  anything else happens, with a sentence, so a typo never spends someone else's code.

The alphabet is digits and capitals without I, L, O, U (read as 1, 1, 0, V) and without Y, Z (which a
USB scanner set to a US layout types swapped on a German keyboard). Input is forgiving: lower case,
spaces, dashes and O/I/L typed for 0/1 are all accepted. QR codes carry the code in alphanumeric mode
(version 1, the smallest, scans fastest).

Whether a code was already used is not decided here: that is recorded on the shop (see
`booth.shop` / the README), so it holds across restarts and across booths.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from booth.core.drop import Refusal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWX"  # 30 symbols
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_TYPED_ALIASES = {"O": "0", "I": "1", "L": "1"}
RANDOM_CHARS = 10
MAC_CHARS = 5
CODE_CHARS = RANDOM_CHARS + MAC_CHARS + 1


@dataclass(frozen=True)
class StickerCode:
    code: str  # canonical, without dashes
    sku_id: str
    burst: str = ""  # "" = any burst of the drop

    @property
    def display(self) -> str:
        return "-".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))

    @property
    def redemption_key(self) -> str:
        """The name under which the redemption is recorded on the shop (metafield key, 2–64 chars)."""
        return f"code-{self.code.lower()}"


def check_char(body: str) -> str:
    """Luhn mod 30 over `body`: catches every single wrong character and most swapped neighbours."""
    n = len(ALPHABET)
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def _mac(secret: bytes, sku_id: str, burst: str, random_part: str) -> str:
    digest = hmac.new(secret, f"booth-code\x00{sku_id}\x00{burst}\x00{random_part}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(MAC_CHARS):
        value, rest = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[rest])
    return "".join(chars)


def make_code(secret: bytes, sku_id: str, burst: str, random_bytes: Callable[[int], bytes]) -> StickerCode:
    """One new code. `random_bytes` is `secrets.token_bytes` in use (injected so tests can repeat a run)."""
    chars: list[str] = []
    while len(chars) < RANDOM_CHARS:
        for byte in random_bytes(RANDOM_CHARS):
            if byte < 240 and len(chars) < RANDOM_CHARS:  # 240 = 8 × 30: no modulo bias
                chars.append(ALPHABET[byte % len(ALPHABET)])
    random_part = "".join(chars)
    body = random_part + _mac(secret, sku_id, burst, random_part)
    return StickerCode(body + check_char(body), sku_id, burst)


def make_codes(
    secret: bytes, sku_id: str, burst: str, count: int, random_bytes: Callable[[int], bytes]
) -> list[StickerCode]:
    seen: set[str] = set()
    codes: list[StickerCode] = []
    while len(codes) < count:
        code = make_code(secret, sku_id, burst, random_bytes)
        if code.code not in seen:
            seen.add(code.code)
            codes.append(code)
    return codes


def normalise(text: str) -> str:
    """What the scanner or the host typed → canonical characters (no dashes or spaces, upper case)."""
    cleaned = "".join(ch for ch in text.strip().upper() if ch not in " -_\t")
    return "".join(_TYPED_ALIASES.get(ch, ch) for ch in cleaned)


def validate(
    text: str, secret: bytes, bindings: Iterable[tuple[str, str]], sku_names: dict[str, str] | None = None
) -> StickerCode | Refusal:
    """The code's product and burst, or a Refusal the host can act on.

    `bindings` are the (sku_id, burst) pairs this drop sells, burst "" included for burst-free codes.
    """
    code = normalise(text)
    if not code:
        return Refusal("No code: scan the sticker or type its 16 characters.")
    bad = sorted({ch for ch in code if ch not in _INDEX})
    if bad:
        return Refusal(f"{text.strip()!r} is not a Booth code: it has {', '.join(repr(c) for c in bad)}.")
    if len(code) != CODE_CHARS:
        return Refusal(f"A code has {CODE_CHARS} characters; {text.strip()!r} has {len(code)}. "
                       "Check it and type it again.")
    body, check = code[:-1], code[-1]
    if check_char(body) != check:
        return Refusal(f"{_display(code)} has a typo (its check character does not match): check each character.")
    random_part, mac = body[:RANDOM_CHARS], body[RANDOM_CHARS:]
    for sku_id, burst in bindings:
        if hmac.compare_digest(_mac(secret, sku_id, burst, random_part), mac):
            return StickerCode(code, sku_id, burst)
    return Refusal(f"{_display(code)} is not a code for this drop (wrong drop or not made by Booth).")


def _display(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
