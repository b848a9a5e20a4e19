"""E-voucher model (医保电子凭证模型): dynamic-code format, channel signatures, password rules,
error codes. Pure: no I/O, no clock — every time is passed in.

Dynamic code (动态码, the QR content)::

    YB1.<payload>.<sig>
    payload = base64url("<kid>|<jti>|<psn_no>|<admdvs>|<chnl_id>|<iat>|<exp>")
    sig     = base64url(HMAC-SHA256(key[kid], "YB1." + payload))

``iat``/``exp`` are Unix seconds, ``exp - iat`` ≤ 60; ``jti`` is a random single-use id (the
service records its use). Base64url is without padding. See ``docs/voucher.md``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac

CODE_PREFIX = "YB1"
MAX_CODE_TTL = 60  # seconds (issue: ≤ 60 s)
MAX_PASSWORD_TRIES = 5


@dataclass(frozen=True, slots=True)
class EcErrorKind:
    code: int
    key: str
    message: str
    http_status: int


# Error codes of the e-voucher API (code ≠ 0). Stable: clients switch on ``code`` or ``error``.
ERRORS: dict[str, EcErrorKind] = {
    e.key: e
    for e in (
        EcErrorKind(1001, "EC_CODE_MALFORMED", "二维码格式无效，无法识别", 400),
        EcErrorKind(1002, "EC_CODE_TAMPERED", "二维码签名校验失败，内容已被篡改", 400),
        EcErrorKind(1003, "EC_CODE_EXPIRED", "二维码已过期，请参保人刷新后重新出示", 410),
        EcErrorKind(1004, "EC_CODE_USED", "二维码已被使用(重放)，请参保人刷新后重新出示", 409),
        EcErrorKind(1005, "EC_CODE_FOREIGN", "非本平台签发的电子凭证二维码", 400),
        EcErrorKind(1006, "EC_VOUCHER_INACTIVE", "医保电子凭证未激活或已注销", 403),
        EcErrorKind(1007, "EC_CHANNEL_UNAUTHORIZED", "该渠道未获参保人授权或授权已撤销", 403),
        EcErrorKind(1008, "EC_NOT_INSURED", "参保人当前无有效参保", 403),
        EcErrorKind(1101, "EC_TOKEN_INVALID", "ecToken无效", 401),
        EcErrorKind(1102, "EC_TOKEN_EXPIRED", "ecToken已过期，请重新扫码", 401),
        EcErrorKind(1103, "EC_TOKEN_WRONG_ORG", "ecToken不属于本机构，不能跨机构使用", 403),
        EcErrorKind(1201, "EC_BIZ_TYPE_INVALID", "用码业务类型businessType无效", 400),
        EcErrorKind(1202, "EC_ORG_INVALID", "机构编码orgId无效", 400),
        EcErrorKind(1203, "EC_FIELD_INVALID", "请求参数无效", 400),
        EcErrorKind(1301, "EC_REALNAME_FAILED", "实名核验失败：姓名与证件号码不匹配或未参保", 403),
        EcErrorKind(1302, "EC_REALPERSON_FAILED", "实人核验未通过", 403),
        EcErrorKind(1303, "EC_ALREADY_BOUND", "该渠道账号已绑定其他参保人", 409),
        EcErrorKind(1401, "EC_PWD_NOT_SET", "未设置电子凭证密码", 409),
        EcErrorKind(1402, "EC_PWD_ALREADY_SET", "已设置电子凭证密码，请使用修改或重置", 409),
        EcErrorKind(1403, "EC_PWD_WRONG", "电子凭证密码错误", 403),
        EcErrorKind(1404, "EC_PWD_LOCKED", "密码错误次数过多，已锁定", 423),
        EcErrorKind(1405, "EC_PWD_WEAK", "密码不符合规则", 400),
        EcErrorKind(1501, "EC_FAMILY_CONSENT", "亲情账户绑定缺少被绑定人或监护人同意", 403),
        EcErrorKind(1502, "EC_FAMILY_NOT_BOUND", "未绑定该亲情账户", 403),
        EcErrorKind(1601, "EC_AUTH_MISSING", "缺少渠道认证头", 401),
        EcErrorKind(1602, "EC_AUTH_BAD_SIGNATURE", "渠道请求签名错误", 401),
        EcErrorKind(1603, "EC_AUTH_STALE", "渠道请求时间戳超出允许范围", 401),
        EcErrorKind(1604, "EC_AUTH_REPLAY", "渠道请求nonce重复(重放)", 401),
        EcErrorKind(1605, "EC_AUTH_UNKNOWN_CHANNEL", "渠道不存在或已停用", 401),
        EcErrorKind(1701, "EC_RELAY_FAILED", "跨省电子凭证核验失败：参保地无法访问", 502),
    )
}


class EcError(Exception):
    """An e-voucher error with a stable numeric ``code``, ``key`` and a Chinese message."""

    def __init__(self, key: str, detail: str = "") -> None:
        kind = ERRORS[key]
        self.kind = kind
        self.code = kind.code
        self.key = key
        self.http_status = kind.http_status
        self.message = kind.message + (f"：{detail}" if detail else "")
        super().__init__(self.message)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    """Decode unpadded base64url; only the canonical spelling is accepted, so the unused low bits
    of a last character cannot make a second valid spelling of the same signature."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(data) != text:
        raise ValueError("not canonical base64url")
    return data


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(msg)
    return h.finalize()


def hmac_equal(key: bytes, msg: bytes, sig: bytes) -> bool:
    """Constant-time check of an HMAC-SHA256 signature."""
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(msg)
    try:
        h.verify(sig)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CodeClaims:
    """What a dynamic code binds: person, insured region, channel, validity."""

    kid: str
    jti: str
    psn_no: str
    admdvs: str
    chnl_id: str
    iat: int
    exp: int


_RE_FIELD = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def sign_code(key: bytes, claims: CodeClaims) -> str:
    """The QR content for ``claims`` signed with ``key``."""
    for v in (claims.kid, claims.jti, claims.psn_no, claims.admdvs, claims.chnl_id):
        if not _RE_FIELD.match(v):
            raise ValueError(f"invalid code field: {v!r}")
    if not 0 < claims.exp - claims.iat <= MAX_CODE_TTL:
        raise ValueError("code lifetime must be 1..60 s")
    raw = "|".join(
        (
            claims.kid,
            claims.jti,
            claims.psn_no,
            claims.admdvs,
            claims.chnl_id,
            str(claims.iat),
            str(claims.exp),
        )
    )
    signing_input = f"{CODE_PREFIX}.{_b64e(raw.encode())}"
    return f"{signing_input}.{_b64e(hmac_sha256(key, signing_input.encode()))}"


def parse_code(code: str) -> tuple[CodeClaims, bytes, bytes]:
    """Split a code into claims, signing input and signature; ``EC_CODE_MALFORMED`` if it can't."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != CODE_PREFIX:
        raise EcError("EC_CODE_MALFORMED")
    try:
        fields = _b64d(parts[1]).decode("utf-8").split("|")
        sig = _b64d(parts[2])
        kid, jti, psn_no, admdvs, chnl_id, iat, exp = fields
        claims = CodeClaims(kid, jti, psn_no, admdvs, chnl_id, int(iat), int(exp))
    except (ValueError, UnicodeDecodeError):
        raise EcError("EC_CODE_MALFORMED") from None
    return claims, f"{parts[0]}.{parts[1]}".encode(), sig


def verify_code(code: str, keys: dict[str, bytes], now_ts: int) -> CodeClaims:
    """Check format, issuer key, signature and expiry (in that order); return the claims.

    Raises ``EC_CODE_MALFORMED``, ``EC_CODE_FOREIGN`` (unknown key id: not signed here),
    ``EC_CODE_TAMPERED`` or ``EC_CODE_EXPIRED``. Single use is the service's job.
    """
    claims, signing_input, sig = parse_code(code)
    key = keys.get(claims.kid)
    if key is None:
        raise EcError("EC_CODE_FOREIGN")
    if not hmac_equal(key, signing_input, sig):
        raise EcError("EC_CODE_TAMPERED")
    if now_ts >= claims.exp:
        raise EcError("EC_CODE_EXPIRED", f"有效期至{claims.exp}")
    if claims.exp - claims.iat > MAX_CODE_TTL:
        raise EcError("EC_CODE_TAMPERED", "有效期超过60秒")
    return claims


# --- channel request signatures (渠道接口签名) -------------------------------------------------


def channel_string_to_sign(
    method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(sha256(body))`` as bytes."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def channel_signature(
    secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """Hex HMAC-SHA256 a channel sends in ``X-Yibao-Signature``."""
    msg = channel_string_to_sign(method, path, timestamp, nonce, body)
    return hmac_sha256(secret.encode(), msg).hex()


def check_channel_signature(
    secret: str,
    method: str,
    path: str,
    timestamp: str,
    nonce: str,
    body: bytes,
    signature: str,
    now_ts: int,
    window: int,
) -> None:
    """Raise ``EC_AUTH_STALE`` / ``EC_AUTH_BAD_SIGNATURE``; nonce uniqueness is the service's job."""
    try:
        ts = int(timestamp)
        sig = bytes.fromhex(signature)
    except ValueError:
        raise EcError("EC_AUTH_BAD_SIGNATURE", "时间戳或签名格式错误") from None
    if abs(now_ts - ts) > window:
        raise EcError("EC_AUTH_STALE", f"允许±{window}秒")
    if not 8 <= len(nonce) <= 64:
        raise EcError("EC_AUTH_BAD_SIGNATURE", "nonce长度应为8至64")
    msg = channel_string_to_sign(method, path, timestamp, nonce, body)
    if not hmac_equal(secret.encode(), msg, sig):
        raise EcError("EC_AUTH_BAD_SIGNATURE")


# --- payment password (电子凭证密码) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordState:
    failed: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def after_failure(state: PasswordState, now: datetime, lock_for: timedelta) -> PasswordState:
    """One more wrong try; the fifth locks until ``now + lock_for`` and resets the count."""
    failed = (0 if state.locked_until and now >= state.locked_until else state.failed) + 1
    if failed >= MAX_PASSWORD_TRIES:
        return PasswordState(0, now + lock_for)
    return PasswordState(failed, None)


def after_success() -> PasswordState:
    return PasswordState(0, None)


def tries_left(state: PasswordState) -> int:
    return MAX_PASSWORD_TRIES - state.failed


def check_new_password(password: str, certno: str, brdy: date) -> None:
    """Rules: 6 digits; not one repeated digit; not an ascending/descending run; not the birth
    date (YYMMDD or MMDD…) nor the last 6 characters of the certificate. ``EC_PWD_WEAK``."""
    if not re.fullmatch(r"\d{6}", password):
        raise EcError("EC_PWD_WEAK", "须为6位数字")
    if len(set(password)) == 1:
        raise EcError("EC_PWD_WEAK", "不能为相同数字")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(password)}
    if steps in ({1}, {-1}):
        raise EcError("EC_PWD_WEAK", "不能为连续数字")
    if (
        password in (brdy.strftime("%y%m%d"), brdy.strftime("%Y%m%d")[2:])
        or password == certno[-6:]
    ):
        raise EcError("EC_PWD_WEAK", "不能使用生日或证件号码后6位")


# --- family (亲情账户) -----------------------------------------------------------------------


def guardian_consent_allowed(dependent_age: int, same_household: bool) -> bool:
    """A guardian may consent for a minor (under 18) of the same household (监护人代为同意)."""
    return dependent_age < 18 and same_household


def ec_index_no(psn_no: str, salt: bytes) -> str:
    """Stable 32-hex e-voucher index number (电子凭证索引号, ``ecIndexNo``) of a person."""
    return hashlib.sha256(salt + psn_no.encode()).hexdigest()[:32]
