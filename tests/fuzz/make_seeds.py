#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are what the parsers see in real use: providers' answers shaped as their API
documentation shows them, DNS replies as resolvers and authoritative servers send them, the
config examples. The provider targets and dns_response/ip_answer read a first byte that picks
the record type (or format) before the body; the seeds carry it. Run it again after changing
a seed here; regression seeds (inputs that once crashed) live next to the generated ones with
names starting with "regression-" and are left alone.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- DNS wire format -------------------------------------------------------------------

def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=300, rclass=1):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def message(qname, qtype, answers=(), authority=(), additional=(), rcode=0, aa=False,
            tc=False, ident=0x1234, opcode=0, rd=True):
    flags = 0x8000 | (opcode << 11) | (0x0400 if aa else 0) | (0x0200 if tc else 0)
    flags |= (0x0100 if rd else 0) | 0x0080 | rcode
    header = struct.pack(">HHHHHH", ident, flags, 1, len(answers), len(authority),
                         len(additional))
    question = name(qname) + struct.pack(">HH", qtype, 1)
    return header + question + b"".join(answers) + b"".join(authority) + b"".join(additional)


PTR_QNAME = b"\xc0\x0c"  # a pointer to the question's name
A, NS, CNAME, SOA, TXT, AAAA, OPT, TSIG = 1, 2, 5, 6, 16, 28, 41, 250


def soa_rdata(mname, rname, serial):
    return name(mname) + name(rname) + struct.pack(">IIIII", serial, 7200, 3600, 1209600, 300)


def txt(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


def dns_replies(qname):
    """(file name, question type, reply) for the replies a resolver sends."""
    v4 = bytes([192, 0, 2, 1])
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    return [
        ("a", A, message(qname, A, [rr(PTR_QNAME, A, v4)])),
        ("a-two", A, message(qname, A, [rr(PTR_QNAME, A, v4),
                                        rr(PTR_QNAME, A, bytes([192, 0, 2, 2]), ttl=60)])),
        ("aaaa", AAAA, message(qname, AAAA, [rr(PTR_QNAME, AAAA, v6)], aa=True)),
        ("cname-chain", A, message(qname, A, [
            rr(PTR_QNAME, CNAME, name("edge.example.net")),
            rr(name("edge.example.net"), A, v4, ttl=20)])),
        ("nxdomain-soa", A, message(qname, A, authority=[
            rr(name("example.com"), SOA,
               soa_rdata("ns1.example.com", "hostmaster.example.com", 2024010101))], rcode=3)),
        ("nodata-soa", AAAA, message(qname, AAAA, authority=[
            rr(name("example.com"), SOA,
               soa_rdata("ns1.example.com", "hostmaster.example.com", 7))], aa=True)),
        ("soa", SOA, message(qname, SOA, [
            rr(PTR_QNAME, SOA, soa_rdata("ns1.example.com", "hostmaster.example.com", 42))],
            aa=True)),
        ("ns", NS, message(qname, NS, [rr(PTR_QNAME, NS, name("ns1.example.com")),
                                       rr(PTR_QNAME, NS, name("ns2.example.com"))])),
        ("txt", TXT, message(qname, TXT, [rr(PTR_QNAME, TXT, txt("203.0.113.7"))])),
        ("servfail", A, message(qname, A, rcode=2)),
        ("refused", A, message(qname, A, rcode=5, rd=False)),
        ("truncated", A, message(qname, A, tc=True)),
        ("edns", A, message(qname, A, [rr(PTR_QNAME, A, v4)],
                            additional=[b"\0" + struct.pack(">HHIH", OPT, 1232, 0, 0)])),
    ]


TYPE_INDEX = {A: 0, AAAA: 1, TXT: 2, SOA: 3, NS: 4, CNAME: 5}  # dns_response_fuzz.cpp


def dns_response_seeds():
    for file_name, qtype, reply in dns_replies("www.example.com"):
        write("dns_response", file_name, bytes([TYPE_INDEX[qtype]]) + reply)


def ip_answer_seeds():
    # Bit 7 clear: an HTTP body; the low 2 bits pick the format (auto, text, trace, json) and
    # bits 2..4 the Content-Type of kAuto (none, text/plain, application/json, ...+json).
    write("ip_answer", "text", bytes([1]) + b"203.0.113.7\n")
    write("ip_answer", "text-v6", bytes([1]) + b"2001:db8::7\r\n")
    write("ip_answer", "text-html", bytes([1]) + b"<!DOCTYPE html><html><body>Login</body></html>")
    write("ip_answer", "trace", bytes([2]) + b"fl=29f1\nh=1.1.1.1\nip=203.0.113.7\n"
          b"ts=1700000000.123\nvisit_scheme=https\nuag=ddnswatch\ncolo=FRA\nhttp=http/1.1\n"
          b"loc=DE\ntls=TLSv1.3\nsni=plaintext\nwarp=off\ngateway=off\n")
    write("ip_answer", "json", bytes([3]) + b'{"ip": "203.0.113.7"}')
    write("ip_answer", "json-auto", bytes([0 | (2 << 2)]) + b'{"ip":"2001:db8::7","country":"DE"}')
    write("ip_answer", "two-words", bytes([0]) + b"203.0.113.7, 203.0.113.8")
    # Bit 7 set: a DNS echo's reply; the low bits pick A, AAAA or TXT.
    for file_name, qtype, reply in dns_replies("whoami.example.net"):
        if qtype in (A, AAAA, TXT):
            write("ip_answer", "dns-" + file_name, bytes([0x80 | [A, AAAA, TXT].index(qtype)]) + reply)


def dns_wire_seeds():
    # Answers of a primary to the RFC 2136 provider's query (id 0x1234, www.example.com A,
    # RD clear), signed or not; the TSIG RR is shaped as BIND sends it.
    def tsig_rr(mac, error=0, other=b""):
        rdata = name("hmac-sha256") + struct.pack(">HIHH", 0, 1700000000, 300, len(mac))
        rdata += mac + struct.pack(">HHH", 0x1234, error, len(other)) + other
        return rr(name("ddns-key.example.com"), TSIG, rdata, ttl=0, rclass=255)

    v4 = bytes([192, 0, 2, 1])
    q = "www.example.com"
    write("dns_wire", "answer-signed", message(q, A, [rr(PTR_QNAME, A, v4)], aa=True, rd=False,
                                               additional=[tsig_rr(bytes(32))]))
    write("dns_wire", "nxdomain-unsigned", message(q, A, rcode=3, aa=True, rd=False))
    write("dns_wire", "cname", message(q, A, [rr(PTR_QNAME, CNAME, name("other.example.com"))],
                                       aa=True, rd=False, additional=[tsig_rr(bytes(32))]))
    write("dns_wire", "badkey", message(q, A, rcode=9, rd=False, additional=[tsig_rr(b"", 17)]))
    write("dns_wire", "badtime", message(q, A, rcode=9, rd=False,
                                         additional=[tsig_rr(bytes(32), 18, b"\0\0eS\xf1\x00")]))
    update = struct.pack(">HHHHHH", 0x1234, 0x8000 | (5 << 11), 1, 0, 0, 1)
    update += name("example.com") + struct.pack(">HH", SOA, 1) + tsig_rr(bytes(32))
    write("dns_wire", "update-noerror", update)


def provider_seeds():
    # The first byte: bit 0 AAAA, bit 1 two wanted addresses, bit 2 a wanted TTL, bit 3 the
    # zone's apex (alidns, dnspod).
    cloudflare = {
        "success": True, "errors": [], "messages": [],
        "result": [
            {"id": "372e67954025e0ba6aaa6d586b9e0b59", "zone_id": "023e105f4ecef8ad9ca31a8372d0c353",
             "zone_name": "example.com", "name": "home.example.com", "type": "A",
             "content": "198.51.100.4", "proxiable": True, "proxied": False, "ttl": 3600,
             "locked": False, "comment": "Domain verification record", "tags": [],
             "created_on": "2014-01-01T05:20:00.12345Z",
             "modified_on": "2014-01-01T05:20:00.12345Z"},
            {"id": "9a7806061c88ada191ed06f989cc3dac", "name": "home.example.com", "type": "A",
             "content": "192.0.2.1", "proxied": True, "ttl": 1},
        ],
        "result_info": {"page": 1, "per_page": 100, "count": 2, "total_count": 2,
                        "total_pages": 1},
    }
    write("cloudflare", "list-a", bytes([2]) + compact(cloudflare).encode())
    cloudflare_v6 = dict(cloudflare, result=[
        {"id": "b1", "name": "HOME.example.com.", "type": "AAAA", "content": "2001:DB8:0::1",
         "proxied": False, "ttl": 300}])
    write("cloudflare", "list-aaaa", bytes([5]) + compact(cloudflare_v6).encode())
    write("cloudflare", "error", bytes([0]) + compact({
        "success": False, "result": None, "messages": [],
        "errors": [{"code": 1004, "message": "DNS Validation Error",
                    "error_chain": [{"code": 9005, "message": "Content for A record is invalid."}]}]
    }).encode())

    alidns = {
        "RequestId": "536E9CAD-DB30-4647-AC87-AA5CC38C5382", "TotalCount": 2, "PageNumber": 1,
        "PageSize": 500,
        "DomainRecords": {"Record": [
            {"DomainName": "example.com", "RecordId": "9999985", "RR": "home", "Type": "A",
             "Value": "192.0.2.9", "Line": "default", "Priority": 5, "TTL": 600,
             "Status": "Enable", "Locked": False, "Weight": 1},
            {"DomainName": "example.com", "RecordId": 9999986, "RR": "home", "Type": "A",
             "Value": "192.0.2.1", "Line": "telecom", "TTL": 600, "Status": "Enable"},
        ]},
    }
    write("alidns", "records", bytes([2]) + compact(alidns).encode())
    write("alidns", "apex-aaaa", bytes([9]) + compact({
        "RequestId": "1", "TotalCount": 1,
        "DomainRecords": {"Record": [{"RecordId": "1", "RR": "@", "Type": "AAAA",
                                      "Value": "2001:db8::9", "Line": "default", "TTL": 600}]}
    }).encode())
    write("alidns", "error", bytes([0]) + compact({
        "RequestId": "2", "HostId": "alidns.aliyuncs.com", "Code": "InvalidAccessKeyId.NotFound",
        "Message": "Specified access key is not found.", "Recommend": "https://api.aliyun.com"
    }).encode())

    dnspod = {"Response": {
        "RequestId": "2b0f9c9e-3b1c-4b3a-9f41-2a7c0f6a4c11",
        "RecordCountInfo": {"SubdomainCount": 2, "ListCount": 2, "TotalCount": 2},
        "RecordList": [
            {"RecordId": 556507778, "Value": "192.0.2.9", "Status": "ENABLE",
             "UpdatedOn": "2021-03-28 11:27:09", "Name": "home", "Line": "默认",
             "LineId": "0", "Type": "A", "Weight": None, "MonitorStatus": "", "Remark": "",
             "TTL": 600, "MX": 0, "DefaultNS": False},
            {"RecordId": 556507779, "Value": "192.0.2.8", "Name": "home", "Line": "电信",
             "Type": "A", "TTL": 600},
        ]}}
    write("dnspod", "records", bytes([2]) + compact(dnspod).encode())
    write("dnspod", "apex-aaaa", bytes([13]) + compact({"Response": {"RequestId": "1",
        "RecordList": [{"RecordId": 1, "Value": "2001:db8::9", "Name": "@", "Line": "默认",
                        "Type": "AAAA", "TTL": 600}]}}).encode())
    write("dnspod", "error", bytes([0]) + compact({"Response": {
        "Error": {"Code": "ResourceNotFound.NoDataOfRecord", "Message": "记录列表为空。"},
        "RequestId": "3"}}).encode())

    powerdns = {
        "id": "example.com.", "name": "example.com.", "kind": "Native", "serial": 2024010101,
        "dnssec": False, "url": "/api/v1/servers/localhost/zones/example.com.",
        "rrsets": [
            {"name": "example.com.", "type": "SOA", "ttl": 3600, "comments": [],
             "records": [{"content": "ns1.example.com. hostmaster.example.com. 2024010101 "
                                     "10800 3600 604800 3600", "disabled": False}]},
            {"name": "home.example.com.", "type": "A", "ttl": 300, "comments": [],
             "records": [{"content": "192.0.2.9", "disabled": False},
                         {"content": "192.0.2.8", "disabled": True}]},
        ],
    }
    write("powerdns", "zone", bytes([2]) + compact(powerdns).encode())
    write("powerdns", "zone-aaaa", bytes([5]) + compact(dict(powerdns, rrsets=[
        {"name": "HOME.example.com.", "type": "AAAA", "ttl": 60,
         "records": [{"content": "2001:DB8::1", "disabled": False}]}])).encode())


def dyndns2_seeds():
    for i, body in enumerate(["good 192.0.2.1\n", "nochg 192.0.2.1", "badauth\r\n",
                              "\n\n  GOOD   2001:db8::1  \r\nnochg 2001:db8::1\n", "911",
                              "abuse\n", "notfqdn\n"]):
        write("dyndns2", "status-%d" % i, body)


def config_seeds():
    write("config", "default.json", open(os.path.join(ROOT, "config", "ddnswatch.json")).read())
    for example in ("cloudflare.json", "monitor-only.json", "rfc2136-bind.json",
                    "all-providers.json"):
        write("config", example, open(os.path.join(ROOT, "config", "examples", example)).read())
    write("config", "env-and-typo.json", compact({
        "listen": "127.0.0.1:9877", "lisen": 1,
        "records": [{"name": "home.example.com", "type": "A",
                     "provider": {"kind": "cloudflare", "zone": "example.com",
                                  "token": "${CF_TOKEN}"}}],
        "watch": [{"name": "home.example.com", "type": "A", "resolvers": ["UNSET_${X}"]}]}))


def state_seeds():
    write("state", "state.json", json.dumps({
        "version": 1, "written_at": "2024-01-01T00:00:00Z",
        "data": {
            "daemon": {"last_start": "2024-01-01T00:00:00Z"},
            "detect": {"ipv4": {"address": "203.0.113.7", "since": "2024-01-01T00:00:00Z"}},
            "updater": {"records": {"home.example.com/A": {
                "fingerprint": "cloudflare:example.com", "desired": ["203.0.113.7"],
                "held": ["203.0.113.7"], "last_attempt": 1704067200000,
                "last_success": 1704067200000, "last_write": None, "failures": 0,
                "not_before": None, "latched": None, "proxied": False}}},
            "monitor": {"home.example.com/A": {
                "expected": ["203.0.113.7"], "changed_at": 1704067200.5,
                "history": [["198.51.100.1"], ["203.0.113.7"]]}},
        }}, indent=2))
    write("state", "newer.json", compact({"version": 2, "data": {}}))
    write("state", "truncated.json", '{"version": 1, "data": {"updater": {"records": {')


def main():
    for target in ("config", "dns_response", "dns_wire", "ip_answer", "dyndns2", "cloudflare",
                   "alidns", "dnspod", "powerdns", "state"):
        folder = os.path.join(HERE, "corpus", target)
        if os.path.isdir(folder):
            for f in os.listdir(folder):
                if not f.startswith("regression-"):
                    os.remove(os.path.join(folder, f))
    config_seeds()
    dns_response_seeds()
    ip_answer_seeds()
    dns_wire_seeds()
    dyndns2_seeds()
    provider_seeds()
    state_seeds()


if __name__ == "__main__":
    main()
