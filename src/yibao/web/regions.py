"""Region names for display (医保区划名称).

Names of the province and city administrative divisions of the shipped provinces, from the
national administrative-division code list (GB/T 2260, 民政部《中华人民共和国县以上行政区划代码》).
Pooling-region 本级 codes (``xx99``) are shown as "<city>本级" (reference/nhsa-interface.md §3.14).
"""

from __future__ import annotations

REGION_NAMES: dict[str, str] = {
    "000000": "国家规定",  # the root of the policy files (policies/national/000000.yaml)
    "440000": "广东省",
    "440100": "广州市",
    "440200": "韶关市",
    "440300": "深圳市",
    "440400": "珠海市",
    "440500": "汕头市",
    "440600": "佛山市",
    "440700": "江门市",
    "440800": "湛江市",
    "440900": "茂名市",
    "441200": "肇庆市",
    "441300": "惠州市",
    "441400": "梅州市",
    "441500": "汕尾市",
    "441600": "河源市",
    "441700": "阳江市",
    "441800": "清远市",
    "441900": "东莞市",
    "442000": "中山市",
    "445100": "潮州市",
    "445200": "揭阳市",
    "445300": "云浮市",
    "441481": "兴宁市",
    "420000": "湖北省",
    "420100": "武汉市",
    "420200": "黄石市",
    "420300": "十堰市",
    "420500": "宜昌市",
    "420600": "襄阳市",
    "420700": "鄂州市",
    "420800": "荆门市",
    "420900": "孝感市",
    "421000": "荆州市",
    "421100": "黄冈市",
    "421200": "咸宁市",
    "421300": "随州市",
    "421381": "广水市",
    "422800": "恩施土家族苗族自治州",
}


def region_name(admdvs: str | None) -> str:
    """``440100`` → ``广州市``; ``440199`` → ``广州市本级``; unknown codes are shown as the code."""
    if not admdvs:
        return ""
    if admdvs in REGION_NAMES:
        return REGION_NAMES[admdvs]
    if len(admdvs) == 6 and admdvs.endswith("99"):
        city = REGION_NAMES.get(admdvs[:4] + "00")
        if city:
            return city + "本级"
    if len(admdvs) == 6 and admdvs.endswith("9900"):
        prov = REGION_NAMES.get(admdvs[:2] + "0000")
        if prov:
            return prov + "本级"
    city = REGION_NAMES.get(admdvs[:4] + "00") if len(admdvs) == 6 else None
    if city:
        return f"{city}（{admdvs}）"
    return admdvs


def region_label(admdvs: str | None) -> str:
    """Name and code together: ``广州市 440100``."""
    if not admdvs:
        return "—"
    name = region_name(admdvs)
    return admdvs if name == admdvs else f"{name} {admdvs}"


def prefix_name(prefix: str) -> str:
    """A scope prefix by name: ``44`` → ``广东省``, ``4401`` → ``广州市``, ``441481`` → ``兴宁市``."""
    code = prefix.ljust(6, "0") if len(prefix) in (2, 4) else prefix
    return region_name(code) or prefix


def scope_name(fixmedins_code: str | None, prefixes: tuple[str, ...], whole: bool) -> str:
    """The 管辖范围 line: the province's name for a province-wide user, else the regions' names."""
    if fixmedins_code:
        return f"定点机构 {fixmedins_code}"
    if whole and not prefixes:
        return "全省"
    names = "、".join(prefix_name(p) for p in prefixes)
    return f"{names}（全省）" if whole else names
