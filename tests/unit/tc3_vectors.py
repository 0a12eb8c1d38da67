#!/usr/bin/python3
"""Prints the DNSPod-shaped TC3-HMAC-SHA256 vector of dnspod_test.cpp, made with Python's
hashlib and hmac from Tencent Cloud's description of signature v3: header values in lower
case, the UTC date of the timestamp in the scope. Run it by hand to regenerate; the unit tests
do not need Python.
"""
import datetime
import hashlib
import hmac

SECRET_ID = "AKIDEXAMPLEdnspod"
SECRET_KEY = "dnspod-unit-test-key"
TIMESTAMP = 1700006399  # 23:59:59 UTC: already the next day in UTC+8
HEADERS = {"content-type": "application/json; charset=utf-8", "host": "127.0.0.1:8443",
           "x-tc-action": "DescribeRecordList"}
PAYLOAD = '{"Domain":"example.com","Limit":3000,"RecordType":"A","Subdomain":"www"}'


def sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


date = datetime.datetime.fromtimestamp(TIMESTAMP, datetime.timezone.utc).strftime("%Y-%m-%d")
names = sorted(HEADERS)
canonical_headers = "".join("%s:%s\n" % (n, HEADERS[n].strip().lower()) for n in names)
signed_headers = ";".join(names)
canonical_request = "POST\n/\n\n%s\n%s\n%s" % (
    canonical_headers, signed_headers, hashlib.sha256(PAYLOAD.encode("utf-8")).hexdigest())
scope = "%s/dnspod/tc3_request" % date
string_to_sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (
    TIMESTAMP, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
key = sign(sign(sign(("TC3" + SECRET_KEY).encode("utf-8"), date), "dnspod"), "tc3_request")
signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
print("scope", scope)
print("signature", signature)
print("authorization", "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
    SECRET_ID, scope, signed_headers, signature))
