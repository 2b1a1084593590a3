"""Request and answer bodies of the control API (pydantic; they make the OpenAPI schema too).

Strict: "2" is not a number, 1.5 is not a whole number, true is not a quantity, and a field Booth
does not know is an error rather than something silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QTY = 10_000
SkuId = Field(min_length=1, max_length=100, description="the product's id from the drop file")


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SaleIn(Body):
    sku: str | None = Field(None, min_length=1, max_length=100, description="product id; default: the featured one")
    qty: int = Field(1, ge=1, le=MAX_QTY)


class NoFields(Body):
    pass


class ExtendIn(Body):
    seconds: float = Field(30.0, gt=0, le=3600, description="seconds added to the offer")


class StockIn(Body):
    sku: str = SkuId
    stock: int = Field(ge=0, le=1_000_000, description="the new stock")
    expected: int = Field(ge=0, le=1_000_000, description="the stock you read before: refused (409) if it changed")


class FeatureIn(Body):
    sku: str = SkuId


class LockIn(Body):
    lock: Literal["auto", "primary", "secondary"]


class ClipIn(Body):
    seconds: float | None = Field(None, ge=5, le=90, description="default: the configured clip length")


class MomentIn(Body):
    reason: str = Field("marked by remote", min_length=1, max_length=80)


class ViewersIn(Body):
    count: int = Field(ge=0, le=1_000_000_000)


class CodeIn(Body):
    code: str = Field(min_length=1, max_length=64, description="a sticker code as scanned or typed")


class Error(BaseModel):
    ok: Literal[False] = False
    error: str


class SaleOut(BaseModel):
    ok: Literal[True] = True
    sku: str
    qty: int
    left: int


class TimerOut(BaseModel):
    ok: Literal[True] = True
    event: str
    deadline_wall: float | None


class StockOut(BaseModel):
    ok: Literal[True] = True
    sku: str
    left: int


class Done(BaseModel):
    ok: Literal[True] = True
    message: str


class ClipOut(BaseModel):
    ok: Literal[True] = True
    path: str
    seconds: float


class MomentOut(BaseModel):
    ok: Literal[True] = True
    index: int
    reason: str
    stream_s: float


class CodeOut(BaseModel):
    ok: Literal[True] = True
    sku: str
    qty: int
    left: int
    offline: bool = Field(description="the shop was unreachable: the code is recorded on it when it is back")
