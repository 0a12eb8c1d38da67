#include "providers/tsig.h"

#include <fmt/format.h>

#include <cstdlib>

#include "core/crypto.h"
#include "providers/dns_wire.h"

namespace ddnswatch::providers::tsig {
namespace {

/// The algorithm's name in canonical wire form.
std::string algorithm_wire(Algorithm algorithm) { return *dns::encode_name(to_string(algorithm)); }

/// The TSIG variables of RFC 8945 section 4.3.3, which every MAC ends with.
std::string variables(const Key& key, uint64_t time_signed, uint16_t fudge, uint16_t error,
                      std::string_view other) {
  std::string out = *dns::encode_name(key.name(), /*lower=*/true);
  dns::put16(out, dns::kClassAny);
  dns::put32(out, 0);  // TTL
  out += algorithm_wire(key.algorithm());
  dns::put48(out, time_signed);
  dns::put16(out, fudge);
  dns::put16(out, error);
  dns::put16(out, static_cast<uint16_t>(other.size()));
  out += other;
  return out;
}

/// `message` with `mac` appended as a TSIG RR and ARCOUNT counting it.
std::string append_record(std::string_view message, const Key& key, uint64_t time_signed,
                          uint16_t fudge, std::string_view mac, uint16_t error,
                          std::string_view other) {
  std::string rdata = algorithm_wire(key.algorithm());
  dns::put48(rdata, time_signed);
  dns::put16(rdata, fudge);
  dns::put16(rdata, static_cast<uint16_t>(mac.size()));
  rdata += mac;
  rdata += message.substr(0, 2);  // the original id
  dns::put16(rdata, error);
  dns::put16(rdata, static_cast<uint16_t>(other.size()));
  rdata += other;

  std::string out(message);
  auto arcount = static_cast<uint16_t>(
      ((static_cast<uint8_t>(out[10]) << 8) | static_cast<uint8_t>(out[11])) + 1);
  out[10] = static_cast<char>(arcount >> 8);
  out[11] = static_cast<char>(arcount & 0xff);
  out += *dns::encode_name(key.name(), /*lower=*/true);
  dns::put16(out, dns::kTypeTsig);
  dns::put16(out, dns::kClassAny);
  dns::put32(out, 0);
  dns::put16(out, static_cast<uint16_t>(rdata.size()));
  out += rdata;
  return out;
}

std::string length_prefixed(std::string_view mac) {
  std::string out;
  dns::put16(out, static_cast<uint16_t>(mac.size()));
  out += mac;
  return out;
}

uint16_t get16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) |
                               static_cast<uint8_t>(s[at + 1]));
}

/// An uncompressed name at the start of `rdata` (RFC 8945: the algorithm name is never
/// compressed); `at` moves past it.
std::optional<std::string> rdata_name(std::string_view rdata, size_t& at) {
  std::string name;
  for (;;) {
    if (at >= rdata.size()) return std::nullopt;
    auto len = static_cast<uint8_t>(rdata[at]);
    if (len == 0) {
      ++at;
      return name;
    }
    if (len > 63 || at + 1 + len > rdata.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(rdata.substr(at + 1, len));
    at += 1 + len;
  }
}

}  // namespace

const char* to_string(Algorithm algorithm) {
  return algorithm == Algorithm::kHmacSha256 ? "hmac-sha256" : "hmac-sha512";
}

Result<Key> Key::create(std::string_view name, std::string_view algorithm,
                        std::string_view secret_base64) {
  auto wire = dns::encode_name(name, /*lower=*/true);
  if (!wire || wire->size() <= 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("TSIG key name \"{}\" is not a DNS name", name));
  }
  Algorithm a;
  if (algorithm == "hmac-sha256") {
    a = Algorithm::kHmacSha256;
  } else if (algorithm == "hmac-sha512") {
    a = Algorithm::kHmacSha512;
  } else {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("TSIG algorithm \"{}\" is not supported (hmac-sha256 or "
                                  "hmac-sha512)",
                                  algorithm));
  }
  auto secret = base64_decode(secret_base64);
  if (!secret || secret->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the TSIG secret is not base64 (copy the secret from tsig-keygen's output)");
  }
  std::string lower;
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  return Key(std::move(lower), a, std::move(*secret));
}

std::string Key::mac(std::string_view data) const {
  return algorithm_ == Algorithm::kHmacSha256 ? hmac_sha256(secret_, data)
                                              : hmac_sha512(secret_, data);
}

std::optional<uint64_t> Record::server_time() const {
  if (other.size() != 6) return std::nullopt;
  uint64_t t = 0;
  for (char c : other) t = (t << 8) | static_cast<uint8_t>(c);
  return t;
}

Result<std::optional<Record>> find(std::string_view message) {
  auto parsed = dns::parse_message(message);
  if (!parsed) return tl::unexpected(parsed.error());
  const auto& additional = parsed->additional;
  for (size_t i = 0; i + 1 < additional.size(); ++i) {
    if (additional[i].type == dns::kTypeTsig) {
      return make_error(ErrorCode::kCorrupt, "a TSIG record that is not the last one");
    }
  }
  if (additional.empty() || additional.back().type != dns::kTypeTsig) {
    return std::optional<Record>();
  }
  const dns::Record& rr = additional.back();
  // The MAC covers class ANY and TTL 0, not the RR's own fields: anything else is not TSIG.
  if (rr.rclass != dns::kClassAny || rr.ttl != 0) {
    return make_error(ErrorCode::kCorrupt, "the TSIG record's class or TTL is wrong");
  }
  Record r;
  r.key_name = rr.name;
  r.offset = rr.offset;
  std::string_view rdata = rr.rdata;
  size_t at = 0;
  auto algorithm = rdata_name(rdata, at);
  if (!algorithm || at + 10 > rdata.size()) {
    return make_error(ErrorCode::kCorrupt, "the TSIG record does not parse");
  }
  r.algorithm = std::move(*algorithm);
  r.time_signed = (static_cast<uint64_t>(get16(rdata, at)) << 32) |
                  (static_cast<uint64_t>(get16(rdata, at + 2)) << 16) | get16(rdata, at + 4);
  r.fudge = get16(rdata, at + 6);
  uint16_t mac_size = get16(rdata, at + 8);
  at += 10;
  if (at + mac_size + 6 > rdata.size()) {
    return make_error(ErrorCode::kCorrupt, "the TSIG record does not parse");
  }
  r.mac = std::string(rdata.substr(at, mac_size));
  at += mac_size;
  r.original_id = get16(rdata, at);
  r.error = get16(rdata, at + 2);
  uint16_t other_len = get16(rdata, at + 4);
  at += 6;
  if (at + other_len != rdata.size()) {
    return make_error(ErrorCode::kCorrupt, "the TSIG record does not parse");
  }
  r.other = std::string(rdata.substr(at, other_len));
  return std::optional<Record>(std::move(r));
}

Signed sign(std::string_view message, const Key& key, uint64_t time_signed, uint16_t fudge) {
  std::string data(message);
  data += variables(key, time_signed, fudge, 0, {});
  std::string mac = key.mac(data);
  return Signed{append_record(message, key, time_signed, fudge, mac, 0, {}), mac};
}

Signed sign_response(std::string_view response, const Key& key, std::string_view request_mac,
                     uint64_t time_signed, uint16_t error, std::string_view other, uint16_t fudge) {
  std::string data = length_prefixed(request_mac);
  data += response;
  data += variables(key, time_signed, fudge, error, other);
  std::string mac = key.mac(data);
  return Signed{append_record(response, key, time_signed, fudge, mac, error, other), mac};
}

Verification verify(std::string_view response, const Key& key, std::string_view request_mac,
                    uint64_t now) {
  Verification v;
  auto found = find(response);
  if (!found) {
    v.verdict = Verdict::kMalformed;
    v.detail = found.error().message;
    return v;
  }
  if (!*found) {
    v.verdict = Verdict::kUnsigned;
    v.detail = "it carries no TSIG record";
    return v;
  }
  v.record = **found;
  const Record& r = *v.record;
  if (r.mac.empty()) {
    v.verdict = Verdict::kUnsigned;
    v.detail = fmt::format("its TSIG record has no MAC (TSIG error {})", dns::rcode_name(r.error));
    return v;
  }
  if (!dns::same_name(r.key_name, key.name()) ||
      !dns::same_name(r.algorithm, to_string(key.algorithm()))) {
    v.verdict = Verdict::kOtherKey;
    v.detail = fmt::format("it is signed with key \"{}\" ({}), not ours", r.key_name, r.algorithm);
    return v;
  }
  if (r.mac.size() != key.mac_size()) {
    // RFC 8945 allows truncated MACs by agreement; we send full ones and expect the same back.
    v.verdict = Verdict::kBadMac;
    v.detail = fmt::format("its MAC is {} bytes, not {}", r.mac.size(), key.mac_size());
    return v;
  }
  std::string data = length_prefixed(request_mac);
  std::string unsigned_part(response.substr(0, r.offset));
  unsigned_part[0] = static_cast<char>(r.original_id >> 8);
  unsigned_part[1] = static_cast<char>(r.original_id & 0xff);
  auto arcount = static_cast<uint16_t>(get16(unsigned_part, 10) - 1);
  unsigned_part[10] = static_cast<char>(arcount >> 8);
  unsigned_part[11] = static_cast<char>(arcount & 0xff);
  data += unsigned_part;
  data += variables(key, r.time_signed, r.fudge, r.error, r.other);
  if (!equal_constant_time(key.mac(data), r.mac)) {
    v.verdict = Verdict::kBadMac;
    v.detail = "its MAC does not match";
    return v;
  }
  if (r.error != dns::kBadTime) {
    auto diff = static_cast<int64_t>(r.time_signed) - static_cast<int64_t>(now);
    if (std::llabs(diff) > r.fudge) {
      v.verdict = Verdict::kTimeOff;
      v.detail =
          fmt::format("it was signed at a time {} s away from ours (fudge {} s)", diff, r.fudge);
      return v;
    }
  }
  v.verdict = Verdict::kValid;
  return v;
}

}  // namespace ddnswatch::providers::tsig
