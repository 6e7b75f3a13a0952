"""Regular.format: RFC-exact languages for JSON Schema formats, checked against known cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import FormatChecker  # type: ignore[import-untyped]

from structgen.schema.regular import FORMAT_NOTES, FORMAT_SUPERSETS, KNOWN_FORMATS, Regular, format_language

CASES: dict[str, tuple[list[str], list[str]]] = {
    "date": (
        ["2024-02-29", "2000-02-29", "1999-12-31", "0000-01-01"],
        [
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-1-01",
            "２０２４-01-01",
            "2024-01-01\n",
        ],
    ),
    "time": (
        ["08:30:06Z", "23:59:60Z", "08:30:06.283185+01:00", "08:30:06z", "12:00:00-23:59"],
        ["008:030:006Z", "8:3:6Z", "24:00:00Z", "12:00:00", "12:00:00+24:00", "22:59:60Z", "12:60:00Z"],
    ),
    "date-time": (
        ["1963-06-19T08:30:06.283185Z", "1963-06-19t08:30:06z", "1998-12-31T23:59:60Z"],
        ["1963-06-19 08:30:06Z", "1963-06-19T08:30:06", "06/19/1963 08:30:06 PST"],
    ),
    "duration": (
        ["P4DT12H30M5S", "PT0S", "P2W", "P1Y2M", "P1M2D", "PT1M2S"],
        ["P", "PT", "P1YT", "PT1D", "P1Y2D", "PT1H2S", "P1Y2W", "PT0.5S", "-P1D"],
    ),
    "email": (
        [
            "joe.bloggs@example.com",
            "te~st@example.com",
            '"joe..bloggs"@example.com',
            "joe.bloggs@[127.0.0.1]",
            "joe.bloggs@[IPv6:::1]",
        ],
        [
            ".test@example.com",
            "test.@example.com",
            "te..st@example.com",
            "joe.bloggs@invalid=domain.com",
            "@example.com",
            "joe.bloggs@",
            "joe bloggs@example.com",
            "joe.bloggs@[127.0.0.300]",
        ],
    ),
    "hostname": (
        ["www.example.com", "hostname", "1host", "a--b.com", "a" * 63 + ".com"],
        [
            "",
            ".",
            "example.",
            "-hostname",
            "hostname-",
            "host_name",
            "a" * 64 + ".com",
            "XN--aa---o47jg78q",
            "\u212aelvin.example.com",
        ],
    ),
    "idn-hostname": (["실례.테스트", "hostname", "a。b"], ["", "-hello", "hello-", "a..b", "example."]),
    "idn-email": (["실례@실례.테스트", "δοκιμή@example.com", "user@café.com"], ["2962", "user＠example.com"]),
    "ipv4": (
        ["192.168.0.1", "0.0.0.0", "255.255.255.255"],
        ["256.0.0.0", "087.10.0.1", "1.2.3", "1.2.3.4.5", "0x7f000001", "1.2.3.4\n"],
    ),
    "ipv6": (
        [
            "::1",
            "::",
            "1:d6::42",
            "::ffff:192.168.0.1",
            "1:2:3:4:5:6:7:8",
            "1000:1000:1000:1000:1000:1000:255.255.255.255",
        ],
        [
            "12345::",
            "1::d6::42",
            ":2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7",
            "fe80::a%eth1",
            "[::1]",
            "::ffff:192.168.0.01",
        ],
    ),
    "uri": (
        [
            "http://foo.bar/?baz=qux#quux",
            "mailto:John.Doe@example.com",
            "urn:oasis:names:specification",
            "ldap://[2001:db8::7]/c=GB?objectClass?one",
            "http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com",
        ],
        [
            "//foo.bar/?baz=qux#quux",
            "/abc",
            "abc",
            "http:// shouldfail.com",
            "http://example.com/%6G",
            "1http://example.com",
            "http://example.com:abc/path",
            "https://example.org/foobar®.txt",
        ],
    ),
    "uri-reference": (
        ["http://foo.bar/?baz=qux#quux", "//foo.bar/", "/abc", "abc", "#fragment", "", "./this:that"],
        ["\\\\WINDOWS\\fileshare", "#frag\\ment", "/%zz", "1:b", "//a@b@example.com/"],
    ),
    "iri": (
        ["http://ƒøø.ßår/?∂éœ=πîx#πîüx", "http://[2001:db8::1]", "urn:example:resource", "http://ƒøø.ßår/𐌀"],
        ["/abc", "âππ", "http://2001:0db8:85a3:0000:0000:8a2e:0370:7334", "http://ƒøø.ßår/\n"],
    ),
    "iri-reference": (["//ƒøø.ßår/?∂éœ=πîx#πîüx", "/âππ", "âππ", "#ƒrägmênt"], ["#ƒräg\\mênt"]),
    "uri-template": (
        ["http://example.com/dictionary/{term:1}/{term}", "", "{+var}", "{x,y}", "{v:1000}", "a'b"],
        ["{term", "{}", "{a,,b}", "{v:0}", "{v:10000}", "foo}bar", "{v:01}", "a b"],
    ),
    "uuid": (
        [
            "2EB8AA08-AA98-11EA-B4AA-73B441D16380",
            "2eb8aa08-aa98-11ea-b4aa-73b441d16380",
            "00000000-0000-0000-0000-000000000000",
        ],
        [
            "2eb8aa08-aa98-11ea-b4aa-73b441d1638",
            "2eb8aa08aa9811eab4aa73b441d16380",
            "2eb8-aa08-aa98-11ea-b4aa73b441d16380",
        ],
    ),
    "json-pointer": (
        ["", "/", "/foo/bar~0/baz~1/%a", "/foo//bar", "/~1~0~0~1~1", "/foo\x00bar\n"],
        ["#", "/foo/bar~", "/~2", "a", "0"],
    ),
    "relative-json-pointer": (
        ["1", "0/foo/bar", "0#", "120/foo/bar"],
        ["/foo/bar", "-1/foo/bar", "0##", "01/a", "", "1#/a"],
    ),
}


def _format(name: str) -> Regular:
    lang = format_language(name)
    assert lang is not None
    return lang


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_accepts_valid_and_rejects_invalid(name: str) -> None:
    lang = format_language(name)
    assert lang is not None
    valid, invalid = CASES[name]
    for s in valid:
        assert lang.matches(s), (name, s)
    for s in invalid:
        assert not lang.matches(s), (name, s)


def test_every_known_format_has_cases_and_unknown_ones_have_no_language() -> None:
    assert set(CASES) == KNOWN_FORMATS
    assert format_language("regex") is None
    assert format_language("no-such-format") is None
    assert set(FORMAT_NOTES) <= KNOWN_FORMATS and FORMAT_SUPERSETS <= set(FORMAT_NOTES)


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.tuples(_DIGITS, _DIGITS, _DIGITS), st.sampled_from(["-", "/", "--"]))
def test_date_agrees_with_format_checker(parts: tuple[str, str, str], sep: str) -> None:
    text = sep.join(parts)
    assert _format("date").matches(text) == FormatChecker().conforms(text, "date")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=3), min_size=3, max_size=5))
def test_ipv4_agrees_with_format_checker(parts: list[str]) -> None:
    text = ".".join(parts)
    assert _format("ipv4").matches(text) == FormatChecker().conforms(text, "ipv4")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(alphabet="0123456789abcdefABCDEF", max_size=5), st.just("1.2.3.4")),
        min_size=2,
        max_size=9,
    )
)
def test_ipv6_agrees_with_format_checker(groups: list[str]) -> None:
    text = ":".join(groups)
    assert _format("ipv6").matches(text) == FormatChecker().conforms(text, "ipv6")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdefxX", min_size=3, max_size=13), min_size=4, max_size=6))
def test_uuid_agrees_with_format_checker(groups: list[str]) -> None:
    text = "-".join(groups)
    assert _format("uuid").matches(text) == FormatChecker().conforms(text, "uuid")


_SUITE = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "json-schema-test-suite" / "draft2020-12"


@pytest.mark.skipif(
    not _SUITE.is_dir(), reason="JSON-Schema-Test-Suite corpus not present beside the checkout"
)
@pytest.mark.parametrize("name", sorted(KNOWN_FORMATS))
def test_json_schema_test_suite_format_cases(name: str) -> None:
    """Exact formats agree with every suite case; noted ones never accept an invalid string
    (supersets excepted)."""
    lang = format_language(name)
    assert lang is not None
    groups = json.loads((_SUITE / "optional" / "format" / f"{name}.json").read_text(encoding="utf-8"))
    for group in groups:
        for case in group["tests"]:
            data = case["data"]
            if not isinstance(data, str):
                continue
            got = lang.matches(data)
            if name not in FORMAT_NOTES:
                assert got == case["valid"], (name, data)
            elif name not in FORMAT_SUPERSETS and got:
                assert case["valid"], (name, data)
