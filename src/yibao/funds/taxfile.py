"""The tax-bureau exchange files (医保—税务 数据交换文件): our format, documented in docs/funds.md.

No public specification of the Guangdong 医保 → 税务 messages exists (funds-and-services.md
§1.6 NOT FOUND), so Yibao defines its own: UTF-8 CSV, a header record, one line per bill, a
trailer with the count and totals. Amounts are yuan with exactly two decimals. Pure: text in,
records (or every error, with its line and field) out.

Assessment export (核定, 医保 → 税务)::

    #YIBAO-TAX,1,ASSESSMENT,<file_id>,<region>,<created YYYY-MM-DD>
    bill_no,scheme,payer_kind,payer_id,payer_cert,payer_name,period,due_date,persons,employer,employee,large_amount,amount
    …
    #END,<rows>,<amount total>

Payment import (到账, 税务 → 医保)::

    #YIBAO-TAX,1,PAYMENT,<file_id>,<region>,<created YYYY-MM-DD>
    bill_no,paid_date,principal,late_fee,voucher_no
    …
    #END,<rows>,<principal total>,<late fee total>
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from yibao.money import fen_str

MAGIC = "#YIBAO-TAX"
VERSION = "1"
EXPORT_COLUMNS = (
    "bill_no", "scheme", "payer_kind", "payer_id", "payer_cert", "payer_name", "period",
    "due_date", "persons", "employer", "employee", "large_amount", "amount",
)  # fmt: skip
PAYMENT_COLUMNS = ("bill_no", "paid_date", "principal", "late_fee", "voucher_no")
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
_AMOUNT = re.compile(r"^\d{1,13}\.\d{2}$")
_VOUCHER = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_BILL = re.compile(r"^[A-Za-z0-9-]{8,80}$")


@dataclass(frozen=True, slots=True)
class FileError:
    """One problem: line number (1 = header record), field, reason (Chinese)."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.line}行 {self.field}: {self.reason}"


class TaxFileError(ValueError):
    """The file is malformed: every error found; the file is refused whole."""

    def __init__(self, errors: Sequence[FileError]) -> None:
        super().__init__(f"文件有{len(errors)}处错误，整个文件被拒收")
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ExportLine:
    bill_no: str
    scheme: str
    payer_kind: str
    payer_id: str
    payer_cert: str  # 统一社会信用代码 of a unit, ID number of a person (disclosure audited)
    payer_name: str
    period: str
    due_date: date
    persons: int
    employer: int
    employee: int
    large_amount: int
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentLine:
    line: int
    bill_no: str
    paid_date: date
    principal: int
    late_fee: int
    voucher_no: str


@dataclass(frozen=True, slots=True)
class PaymentFile:
    file_id: str
    region: str
    created: date
    lines: tuple[PaymentLine, ...]

    @property
    def principal(self) -> int:
        return sum(x.principal for x in self.lines)

    @property
    def late_fee(self) -> int:
        return sum(x.late_fee for x in self.lines)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _csv_line(values: Sequence[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def render_export(file_id: str, region: str, created: date, lines: Sequence[ExportLine]) -> str:
    """The assessment export file (核定数据) as text."""
    out = [_csv_line([MAGIC, VERSION, "ASSESSMENT", file_id, region, created.isoformat()])]
    out.append(_csv_line(EXPORT_COLUMNS))
    for x in lines:
        out.append(
            _csv_line(
                [
                    x.bill_no,
                    x.scheme,
                    x.payer_kind,
                    x.payer_id,
                    x.payer_cert,
                    x.payer_name,
                    x.period,
                    x.due_date.isoformat(),
                    x.persons,
                    fen_str(x.employer),
                    fen_str(x.employee),
                    fen_str(x.large_amount),
                    fen_str(x.amount),
                ]
            )
        )
    out.append(_csv_line(["#END", len(lines), fen_str(sum(x.amount for x in lines))]))
    return "".join(out)


def render_payments(file_id: str, region: str, created: date, lines: Sequence[PaymentLine]) -> str:
    """A payment (到账) file as the tax bureau sends it (used by the demo and the tests)."""
    out = [_csv_line([MAGIC, VERSION, "PAYMENT", file_id, region, created.isoformat()])]
    out.append(_csv_line(PAYMENT_COLUMNS))
    for x in lines:
        out.append(
            _csv_line(
                [
                    x.bill_no,
                    x.paid_date.isoformat(),
                    fen_str(x.principal),
                    fen_str(x.late_fee),
                    x.voucher_no,
                ]
            )
        )
    principal = sum(x.principal for x in lines)
    fee = sum(x.late_fee for x in lines)
    out.append(_csv_line(["#END", len(lines), fen_str(principal), fen_str(fee)]))
    return "".join(out)


def _fen(text: str) -> int:
    whole, cents = text.split(".")
    return int(whole) * 100 + int(cents)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _header(rec: list[str], errors: list[FileError]) -> tuple[str, str, date] | None:
    if len(rec) != 6 or rec[0] != MAGIC:
        errors.append(FileError(1, "header", f"首行应为 {MAGIC},1,PAYMENT,文件编号,医保区划,日期"))
        return None
    if rec[1] != VERSION:
        errors.append(FileError(1, "version", f"不支持的版本{rec[1]!r}(应为{VERSION})"))
    if rec[2] != "PAYMENT":
        errors.append(FileError(1, "kind", f"文件类型应为PAYMENT(到账)，收到{rec[2]!r}"))
    if not _FILE_ID.match(rec[3]):
        errors.append(FileError(1, "file_id", "文件编号应为4至64位字母、数字、-或_"))
    if not re.fullmatch(r"\d{6}", rec[4]):
        errors.append(FileError(1, "region", "医保区划应为6位数字"))
    created = _date(rec[5])
    if created is None:
        errors.append(FileError(1, "created", "生成日期应为YYYY-MM-DD"))
    return (rec[3], rec[4], created) if created is not None else None


def _line(n: int, rec: list[str], errors: list[FileError]) -> PaymentLine | None:
    if len(rec) != len(PAYMENT_COLUMNS):
        errors.append(FileError(n, "-", f"应有{len(PAYMENT_COLUMNS)}列，实际{len(rec)}列"))
        return None
    bill_no, paid, principal, fee, voucher = (v.strip() for v in rec)
    before = len(errors)
    if not _BILL.match(bill_no):
        errors.append(FileError(n, "bill_no", "核定单号格式不正确"))
    paid_date = _date(paid)
    if paid_date is None:
        errors.append(FileError(n, "paid_date", "到账日期应为YYYY-MM-DD"))
    for name, value in (("principal", principal), ("late_fee", fee)):
        if not _AMOUNT.match(value):
            errors.append(FileError(n, name, "金额应为非负数，保留两位小数(元)"))
    if not _VOUCHER.match(voucher):
        errors.append(FileError(n, "voucher_no", "税票号应为1至40位字母、数字、-或_"))
    if len(errors) > before or paid_date is None:
        return None
    return PaymentLine(n, bill_no, paid_date, _fen(principal), _fen(fee), voucher)


def parse_payments(text: str) -> PaymentFile:
    """Parse and check a payment file; :class:`TaxFileError` with every error if malformed."""
    errors: list[FileError] = []
    try:
        records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:
        raise TaxFileError([FileError(1, "-", f"不是合法的CSV文本：{exc}")]) from None
    if not records:
        raise TaxFileError([FileError(1, "header", "文件为空")])
    head = _header([v.strip() for v in records[0]], errors)
    if len(records) < 2 or [v.strip() for v in records[1]] != list(PAYMENT_COLUMNS):
        errors.append(FileError(2, "columns", "第2行应为列名 " + ",".join(PAYMENT_COLUMNS)))
    body = records[2:]
    trailer_at = next((i for i, r in enumerate(body) if r and r[0].strip() == "#END"), None)
    if trailer_at is None:
        errors.append(
            FileError(len(records) + 1, "#END", "缺少结束行 #END,行数,本金合计,滞纳金合计")
        )
        lines_raw = body
    else:
        lines_raw = body[:trailer_at]
        if any(any(v.strip() for v in r) for r in body[trailer_at + 1 :]):
            errors.append(FileError(trailer_at + 4, "#END", "结束行之后不得再有内容"))
    lines: list[PaymentLine] = []
    well_formed: list[PaymentLine] = []  # the trailer's totals cover every readable line
    seen_bill: dict[str, int] = {}
    seen_voucher: dict[str, int] = {}
    for i, rec in enumerate(lines_raw, start=3):
        if not any(v.strip() for v in rec):
            errors.append(FileError(i, "-", "空行"))
            continue
        x = _line(i, rec, errors)
        if x is None:
            continue
        well_formed.append(x)
        if x.bill_no in seen_bill:
            errors.append(FileError(i, "bill_no", f"核定单号与第{seen_bill[x.bill_no]}行重复"))
        elif x.voucher_no in seen_voucher:
            errors.append(
                FileError(i, "voucher_no", f"税票号与第{seen_voucher[x.voucher_no]}行重复")
            )
        else:
            seen_bill[x.bill_no], seen_voucher[x.voucher_no] = i, i
            lines.append(x)
    if trailer_at is not None:
        _check_trailer(body[trailer_at], trailer_at + 3, len(lines_raw), well_formed, errors)
    if errors or head is None:
        raise TaxFileError(errors or [FileError(1, "header", "首行不合法")])
    return PaymentFile(head[0], head[1], head[2], tuple(lines))


def _check_trailer(
    rec: list[str], n: int, count: int, lines: list[PaymentLine], errors: list[FileError]
) -> None:
    t = [v.strip() for v in rec]
    if len(t) != 4 or not t[1].isdigit() or not all(_AMOUNT.match(v) for v in t[2:]):
        errors.append(FileError(n, "#END", "结束行应为 #END,行数,本金合计,滞纳金合计"))
        return
    if int(t[1]) != count:
        errors.append(FileError(n, "#END", f"结束行的行数{t[1]}与明细行数{count}不符"))
    principal = sum(x.principal for x in lines)
    fee = sum(x.late_fee for x in lines)
    if _fen(t[2]) != principal:
        errors.append(FileError(n, "#END", f"本金合计{t[2]}与明细合计{fen_str(principal)}不符"))
    if _fen(t[3]) != fee:
        errors.append(FileError(n, "#END", f"滞纳金合计{t[3]}与明细合计{fen_str(fee)}不符"))
