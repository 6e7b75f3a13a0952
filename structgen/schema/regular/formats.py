"""JSON Schema ``format`` values as regular languages, written from their RFC grammars.

Most are exact. The exceptions, listed in :data:`FORMAT_NOTES`, either accept less than the RFC
(never an invalid string) or, for the three in :data:`FORMAT_SUPERSETS`, accept some invalid strings
(rules that no finite automaton of reasonable size checks: total hostname length, IDNA's contextual
and bidirectional rules), so callers should validate those after generation.
"""

from __future__ import annotations

from functools import cache

from .ecma import parse
from .language import Regular

# -- building blocks (ECMA-262 syntax, matched in full) ----------------------------------------
_HEX = "[0-9A-Fa-f]"
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_H16 = f"{_HEX}{{1,4}}"
_LS32 = f"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = (
    "(?:"
    + "|".join(
        [
            f"(?:{_H16}:){{6}}{_LS32}",
            f"::(?:{_H16}:){{5}}{_LS32}",
            f"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            f"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            f"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            f"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            f"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            f"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            f"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)

# RFC 1123 labels of at most 63 characters, without IDNA's reserved "??--" labels (so no punycode).
_AN = "[A-Za-z0-9]"
_LDH = "[A-Za-z0-9-]"
_LABEL = f"(?:{_AN}|{_AN}{_AN}|{_AN}{_LDH}{_AN}|{_AN}{_LDH}{_LDH}{_AN}|{_AN}{_LDH}(?:{_AN}{_LDH}|-{_AN}){_LDH}{{0,58}}{_AN})"
_HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*"

# Internationalized labels: ASCII letters and digits or the letter-bearing blocks of Unicode (a
# coarse, compact class: no symbols, punctuation or spaces below U+3040), hyphens inside.
_ULETTER = (
    r"[A-Za-z0-9\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u1FFF\u2C00-\u2DFF\u3040-\uD7FF"
    r"\uF900-\uFDCF\uFDF0-\uFE1F\uFE70-\uFEFE\u{10000}-\u{EFFFF}]"
)
_ULDH = f"(?:{_ULETTER}|-)"
_ULABEL = f"{_ULETTER}(?:{_ULDH}{{0,61}}{_ULETTER})?"
_IDN_DOT = "[.\u3002\uff0e\uff61]"
_IDN_HOSTNAME = f"(?:{_ULABEL})(?:{_IDN_DOT}{_ULABEL})*"

_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_QUOTED = r'"(?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\[\x20-\x7E])*"'
_ADDRESS_LITERAL = rf"\[(?:{_IPV4}|IPv6:{_IPV6})\]"
_EMAIL = rf"(?:{_ATEXT}+(?:\.{_ATEXT}+)*|{_QUOTED})@(?:{_HOSTNAME}|{_ADDRESS_LITERAL})"
_UTEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\u{10FFFF}-]"
_UQUOTED = r'"(?:[\x20\x21\x23-\x5B\x5D-\x7E\x80-\u{10FFFF}]|\\[\x20-\x7E])*"'
_IDN_EMAIL = rf"(?:{_UTEXT}+(?:\.{_UTEXT}+)*|{_UQUOTED})@(?:{_IDN_HOSTNAME}|{_ADDRESS_LITERAL})"

# Dates and times (RFC 3339), leap years exact; leap seconds only as 23:59:60 in UTC.
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_DATE = (
    "(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    f"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)
_HOUR = "(?:[01][0-9]|2[0-3])"
_MIN = "[0-5][0-9]"
_OFFSET = f"(?:[Zz]|[+-]{_HOUR}:{_MIN})"
_FRAC = r"(?:\.[0-9]+)?"
_TIME = f"(?:{_HOUR}:{_MIN}:{_MIN}{_FRAC}{_OFFSET}|23:59:60{_FRAC}(?:[Zz]|[+-]00:00))"
_DURATION = (
    "P(?:(?:[0-9]+D|[0-9]+M(?:[0-9]+D)?|[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?)"
    "(?:T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S))?"
    "|T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)|[0-9]+W)"
)

# URIs (RFC 3986) and IRIs (RFC 3987).
_PCT = f"%{_HEX}{_HEX}"
_SUB_DELIMS = "!$&'()*+,;="
_UCS = (
    r"\xA0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF\u{10000}-\u{1FFFD}\u{20000}-\u{2FFFD}\u{30000}-\u{3FFFD}"
    r"\u{40000}-\u{4FFFD}\u{50000}-\u{5FFFD}\u{60000}-\u{6FFFD}\u{70000}-\u{7FFFD}\u{80000}-\u{8FFFD}"
    r"\u{90000}-\u{9FFFD}\u{A0000}-\u{AFFFD}\u{B0000}-\u{BFFFD}\u{C0000}-\u{CFFFD}\u{D0000}-\u{DFFFD}"
    r"\u{E1000}-\u{EFFFD}"
)
_PRIVATE = r"\uE000-\uF8FF\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}"


def _uri_grammar(iri: bool) -> tuple[str, str]:
    """(absolute URI, relative reference) patterns; ``iri`` widens unreserved characters."""
    unreserved = "A-Za-z0-9._~\\-" + (_UCS if iri else "")
    private = _PRIVATE if iri else ""
    plain = f"[{unreserved}{_SUB_DELIMS}]"
    pchar = f"(?:[{unreserved}{_SUB_DELIMS}:@]|{_PCT})"
    query = f"(?:[{unreserved}{_SUB_DELIMS}:@/?{private}]|{_PCT})*"
    fragment = f"(?:[{unreserved}{_SUB_DELIMS}:@/?]|{_PCT})*"
    userinfo = f"(?:[{unreserved}{_SUB_DELIMS}:]|{_PCT})*"
    ip_future = f"[vV]{_HEX}+\\.[A-Za-z0-9._~{_SUB_DELIMS}:-]+"
    host = f"(?:\\[(?:{_IPV6}|{ip_future})\\]|(?:{plain}|{_PCT})*)"
    authority = f"(?:{userinfo}@)?{host}(?::[0-9]*)?"
    segment = f"{pchar}*"
    segment_nz = f"{pchar}+"
    segment_nz_nc = f"(?:[{unreserved}{_SUB_DELIMS}@]|{_PCT})+"
    abempty = f"(?:/{segment})*"
    absolute = f"/(?:{segment_nz}(?:/{segment})*)?"
    rootless = f"{segment_nz}(?:/{segment})*"
    noscheme = f"{segment_nz_nc}(?:/{segment})*"
    tail = f"(?:\\?{query})?(?:#{fragment})?"
    scheme = "[A-Za-z][A-Za-z0-9+.-]*"
    absolute_uri = f"{scheme}:(?://{authority}{abempty}|{absolute}|{rootless}|){tail}"
    relative = f"(?://{authority}{abempty}|{absolute}|{noscheme}|){tail}"
    return absolute_uri, relative


_URI, _URI_RELATIVE = _uri_grammar(False)
_IRI, _IRI_RELATIVE = _uri_grammar(True)

# URI templates (RFC 6570 with the errata's apostrophe).
_TEMPLATE_LITERAL = rf"(?:[\x21\x23\x24\x26-\x3B\x3D\x3F-\x5B\x5D\x5F\x61-\x7A\x7E{_UCS}{_PRIVATE}]|{_PCT})"
_VARCHAR = f"(?:[A-Za-z0-9_]|{_PCT})"
_VARSPEC = rf"{_VARCHAR}(?:\.?{_VARCHAR})*(?::[1-9][0-9]{{0,3}}|\*)?"
_URI_TEMPLATE = rf"(?:{_TEMPLATE_LITERAL}|\{{[+#./;?&=,!@|]?{_VARSPEC}(?:,{_VARSPEC})*\}})*"

_POINTER = "(?:/(?:[^/~]|~[01])*)*"

_PATTERNS: dict[str, str] = {
    "date": _DATE,
    "time": _TIME,
    "date-time": f"{_DATE}[Tt]{_TIME}",
    "duration": _DURATION,
    "email": _EMAIL,
    "idn-email": _IDN_EMAIL,
    "hostname": _HOSTNAME,
    "idn-hostname": _IDN_HOSTNAME,
    "ipv4": _IPV4,
    "ipv6": _IPV6,
    "uri": _URI,
    "uri-reference": f"(?:{_URI}|{_URI_RELATIVE})",
    "iri": _IRI,
    "iri-reference": f"(?:{_IRI}|{_IRI_RELATIVE})",
    "uri-template": _URI_TEMPLATE,
    "uuid": f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}",
    "json-pointer": _POINTER,
    "relative-json-pointer": f"(?:0|[1-9][0-9]*)(?:#|{_POINTER})",
}

KNOWN_FORMATS = frozenset(_PATTERNS)
"""Formats with a language here (``regex`` and unknown formats have none)."""

FORMAT_NOTES: dict[str, str] = {
    "time": "leap seconds accepted only as 23:59:60 in UTC",
    "date-time": "leap seconds accepted only as 23:59:60 in UTC",
    "hostname": "punycode (xn--) labels are not accepted; the 253-character total length is not enforced",
    "idn-hostname": "labels of letters, marks and digits; IDNA2008 contextual and bidi rules are not enforced",
    "email": "the 253-character domain length is not enforced; no punycode labels",
    "idn-email": "IDNA2008 rules are not enforced on the domain",
}
"""How the language of a format differs from its RFC, where it does."""

FORMAT_SUPERSETS = frozenset({"hostname", "idn-hostname", "email", "idn-email"})
"""Formats whose language may contain strings the RFC rejects (validate after generation)."""


@cache
def format_language(name: str) -> Regular | None:
    """The language of format ``name``, or None when it has none here."""
    pattern = _PATTERNS.get(name)
    if pattern is None:
        return None
    return Regular.from_node(parse(pattern, f"format {name}"))
