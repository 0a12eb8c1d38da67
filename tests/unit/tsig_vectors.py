#!/usr/bin/python3
"""Prints the TSIG test vectors of tsig_test.cpp, made by dnspython (Debian python3-dnspython,
2.3.0 when they were pasted): an independent implementation of RFC 8945 signing and of the DNS
messages. Run it by hand to regenerate; the unit tests do not need Python or dnspython.

Names are rendered without compression (ddnswatch never compresses what it sends), and the
clock is pinned so the MACs are reproducible.
"""
import struct
import time

import dns.message
import dns.name
import dns.rcode
import dns.renderer
import dns.rrset
import dns.tsig
import dns.update

KEY256 = dns.tsig.Key("ddnswatch-lab.", "c2VjcmV0LWtleS1mb3ItdGhlLXRzaWctdW5pdC10ZXN0cw==",
                      dns.tsig.HMAC_SHA256)
KEY512 = dns.tsig.Key("update-key.example.",
                      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==",
                      dns.tsig.HMAC_SHA512)

_init = dns.renderer.Renderer.__init__


def _uncompressed(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.compress = None


dns.renderer.Renderer.__init__ = _uncompressed


def at(t):
    time.time = lambda: t


def show(label, wire):
    print(f"// {label}: {len(wire)} bytes")
    print(f'"{wire.hex()}"')


# A query for host1.ddnswatch.test A, RD clear, id 0x1234, signed at 1700000000.
at(1700000000)
q = dns.message.make_query("host1.ddnswatch.test.", "A")
q.id = 0x1234
q.flags = 0
q.use_tsig(KEY256, fudge=300)
qwire = q.to_wire()
show("query, hmac-sha256", qwire)
print("// its MAC:", q.mac.hex())

# The server's answer: AA, one A record, signed one second later.
parsed = dns.message.from_wire(qwire, keyring=KEY256)
at(1700000001)
r = dns.message.make_response(parsed)
r.flags |= dns.flags.AA
r.answer.append(dns.rrset.from_text("host1.ddnswatch.test.", 5, "IN", "A", "192.0.2.1"))
show("answer, hmac-sha256", r.to_wire())

# BADTIME: the server's clock is 1200 s ahead; NOTAUTH, our time signed echoed (as BIND does),
# the server's time in the other data.
at(1700000000)
b = dns.message.make_response(parsed)
b.set_rcode(dns.rcode.NOTAUTH)
b.use_tsig(KEY256, fudge=300, tsig_error=dns.rcode.BADTIME,
           other_data=struct.pack("!Q", 1700001200)[2:])
b.request_mac = parsed.mac
show("BADTIME answer, hmac-sha256", b.to_wire())

# An UPDATE of zone ddnswatch.test: delete host1 A, add 192.0.2.1 and 192.0.2.2 with TTL 300.
at(1700000000)
u = dns.update.UpdateMessage("ddnswatch.test.", id=0xBEEF)
u.use_tsig(KEY512, fudge=300)
u.delete("host1", "A")
u.add("host1", 300, "A", "192.0.2.1")
u.add("host1", 300, "A", "192.0.2.2")
uwire = u.to_wire(origin=dns.name.from_text("ddnswatch.test."))
show("update, hmac-sha512", uwire)
print("// its MAC:", u.mac.hex())

parsed_u = dns.message.from_wire(uwire, keyring=KEY512)
at(1700000002)
ur = dns.message.make_response(parsed_u)
show("update answer NOERROR, hmac-sha512", ur.to_wire())
