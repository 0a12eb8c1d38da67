#include "providers/dns_wire.h"

#include <fmt/format.h>

namespace ddnswatch::providers::dns {
namespace {

constexpr size_t kMaxName = 255;
constexpr size_t kMaxLabel = 63;
constexpr int kMaxPointers = 64;  // more jumps than a 255-byte name can need: a loop

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view strip_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

uint16_t get16(std::string_view m, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(m[at]) << 8) |
                               static_cast<uint8_t>(m[at + 1]));
}

uint32_t get32(std::string_view m, size_t at) {
  return (static_cast<uint32_t>(get16(m, at)) << 16) | get16(m, at + 2);
}

tl::unexpected<Error> corrupt(std::string what) {
  return make_error(ErrorCode::kCorrupt, std::move(what));
}

/// Reads the name at `at` following compression pointers; `end` receives the offset just past
/// the name's own encoding.
Result<std::string> read_name_at(std::string_view m, size_t at, size_t* end) {
  std::string name;
  size_t wire_length = 1;  // the root label
  int jumps = 0;
  bool jumped = false;
  for (;;) {
    if (at >= m.size()) return corrupt(fmt::format("name at offset {} runs past the end", at));
    auto len = static_cast<uint8_t>(m[at]);
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= m.size()) return corrupt("compression pointer runs past the end");
      if (++jumps > kMaxPointers) return corrupt("compression pointer loop");
      if (!jumped && end) *end = at + 2;
      jumped = true;
      at = get16(m, at) & 0x3fff;
      continue;
    }
    if ((len & 0xc0) != 0) return corrupt(fmt::format("unknown label type at offset {}", at));
    if (len == 0) {
      if (!jumped && end) *end = at + 1;
      return name;
    }
    if (at + 1 + len > m.size()) return corrupt("label runs past the end");
    wire_length += 1 + len;
    if (wire_length > kMaxName) return corrupt("name longer than 255 bytes");
    if (!name.empty()) name += '.';
    name.append(m.substr(at + 1, len));
    at += 1 + len;
  }
}

Result<Record> read_record(std::string_view m, size_t& at) {
  Record r;
  r.offset = at;
  auto name = read_name_at(m, at, &at);
  if (!name) return tl::unexpected(name.error());
  r.name = std::move(*name);
  if (at + 10 > m.size()) return corrupt("record header runs past the end");
  r.type = get16(m, at);
  r.rclass = get16(m, at + 2);
  r.ttl = get32(m, at + 4);
  uint16_t rdlength = get16(m, at + 8);
  at += 10;
  if (at + rdlength > m.size()) return corrupt("rdata runs past the end");
  r.rdata_offset = at;
  r.rdata = std::string(m.substr(at, rdlength));
  at += rdlength;
  return r;
}

void put_header(std::string& out, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                uint16_t ns, uint16_t ar) {
  put16(out, id);
  put16(out, flags);
  put16(out, qd);
  put16(out, an);
  put16(out, ns);
  put16(out, ar);
}

}  // namespace

std::string rcode_name(uint16_t rcode) {
  switch (rcode) {
    case kNoError:
      return "NOERROR";
    case kFormErr:
      return "FORMERR";
    case kServFail:
      return "SERVFAIL";
    case kNxDomain:
      return "NXDOMAIN";
    case kNotImp:
      return "NOTIMP";
    case kRefused:
      return "REFUSED";
    case kYxDomain:
      return "YXDOMAIN";
    case kYxRrset:
      return "YXRRSET";
    case kNxRrset:
      return "NXRRSET";
    case kNotAuth:
      return "NOTAUTH";
    case kNotZone:
      return "NOTZONE";
    case kBadSig:
      return "BADSIG";
    case kBadKey:
      return "BADKEY";
    case kBadTime:
      return "BADTIME";
    case kBadTrunc:
      return "BADTRUNC";
    default:
      return fmt::format("RCODE {}", rcode);
  }
}

void put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

void put48(std::string& out, uint64_t v) {
  put16(out, static_cast<uint16_t>((v >> 32) & 0xffff));
  put32(out, static_cast<uint32_t>(v & 0xffffffff));
}

Result<std::string> encode_name(std::string_view name, bool lower) {
  name = strip_dot(name);
  std::string out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty()) return make_error(ErrorCode::kInvalidArgument, "empty label in a name");
    if (label.size() > kMaxLabel) {
      return make_error(ErrorCode::kInvalidArgument, "a label is longer than 63 bytes");
    }
    out += static_cast<char>(label.size());
    for (char c : label) out += lower ? ascii_lower(c) : c;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    if (dot != std::string_view::npos && name.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "empty label in a name");
    }
  }
  out += '\0';
  if (out.size() > kMaxName) {
    return make_error(ErrorCode::kInvalidArgument, "a name is longer than 255 bytes");
  }
  return out;
}

bool same_name(std::string_view a, std::string_view b) {
  a = strip_dot(a);
  b = strip_dot(b);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool in_zone(std::string_view name, std::string_view zone) {
  name = strip_dot(name);
  zone = strip_dot(zone);
  if (zone.empty()) return true;
  if (name.size() == zone.size()) return same_name(name, zone);
  if (name.size() <= zone.size() + 1) return false;
  return name[name.size() - zone.size() - 1] == '.' &&
         same_name(name.substr(name.size() - zone.size()), zone);
}

Result<Header> parse_header(std::string_view wire) {
  if (wire.size() < kHeaderSize) return corrupt("shorter than a DNS header");
  Header h;
  h.id = get16(wire, 0);
  uint16_t flags = get16(wire, 2);
  h.qr = (flags & 0x8000) != 0;
  h.opcode = (flags >> 11) & 0xf;
  h.aa = (flags & 0x0400) != 0;
  h.tc = (flags & 0x0200) != 0;
  h.rd = (flags & 0x0100) != 0;
  h.rcode = flags & 0xf;
  h.qdcount = get16(wire, 4);
  h.ancount = get16(wire, 6);
  h.nscount = get16(wire, 8);
  h.arcount = get16(wire, 10);
  return h;
}

Result<Message> parse_message(std::string_view wire) {
  auto header = parse_header(wire);
  if (!header) return tl::unexpected(header.error());
  Message m;
  m.header = *header;
  size_t at = kHeaderSize;
  for (uint16_t i = 0; i < m.header.qdcount; ++i) {
    auto name = read_name_at(wire, at, &at);
    if (!name) return tl::unexpected(name.error());
    if (at + 4 > wire.size()) return corrupt("question runs past the end");
    m.questions.push_back(Question{std::move(*name), get16(wire, at), get16(wire, at + 2)});
    at += 4;
  }
  std::pair<uint16_t, std::vector<Record>*> sections[] = {{m.header.ancount, &m.answers},
                                                          {m.header.nscount, &m.authority},
                                                          {m.header.arcount, &m.additional}};
  for (auto& [count, records] : sections) {
    for (uint16_t i = 0; i < count; ++i) {
      auto r = read_record(wire, at);
      if (!r) return tl::unexpected(r.error());
      records->push_back(std::move(*r));
    }
  }
  if (at != wire.size())
    return corrupt(fmt::format("{} bytes after the last record", wire.size() - at));
  return m;
}

Result<std::string> read_name(std::string_view wire, size_t offset) {
  return read_name_at(wire, offset, nullptr);
}

Result<std::string> build_query(uint16_t id, std::string_view name, uint16_t type) {
  auto qname = encode_name(name);
  if (!qname) return tl::unexpected(qname.error());
  std::string out;
  put_header(out, id, 0, 1, 0, 0, 0);  // opcode QUERY, RD clear
  out += *qname;
  put16(out, type);
  put16(out, kClassIn);
  return out;
}

Result<std::string> build_update(uint16_t id, std::string_view zone, std::string_view name,
                                 uint16_t type, const std::vector<std::string>& rdatas,
                                 uint32_t ttl) {
  auto zname = encode_name(zone);
  if (!zname) return tl::unexpected(zname.error());
  auto owner = encode_name(name);
  if (!owner) return tl::unexpected(owner.error());
  if (rdatas.size() > 1000) return make_error(ErrorCode::kInvalidArgument, "too many records");
  std::string out;
  // RFC 2136: ZOCOUNT 1, PRCOUNT 0, UPCOUNT = the delete plus one add per record, ADCOUNT 0.
  put_header(out, id, static_cast<uint16_t>(kOpcodeUpdate << 11), 1, 0,
             static_cast<uint16_t>(1 + rdatas.size()), 0);
  out += *zname;
  put16(out, kTypeSoa);
  put16(out, kClassIn);
  // Delete the RRset: class ANY, TTL 0, no rdata (RFC 2136 section 2.5.2).
  out += *owner;
  put16(out, type);
  put16(out, kClassAny);
  put32(out, 0);
  put16(out, 0);
  for (const std::string& rdata : rdatas) {
    if (rdata.size() > 0xffff) return make_error(ErrorCode::kInvalidArgument, "rdata too long");
    out += *owner;
    put16(out, type);
    put16(out, kClassIn);
    put32(out, ttl);
    put16(out, static_cast<uint16_t>(rdata.size()));
    out += rdata;
  }
  return out;
}

bool answers_request(std::string_view request, std::string_view response) {
  auto req = parse_header(request);
  auto resp = parse_header(response);
  if (!req || !resp) return false;
  if (resp->id != req->id || !resp->qr || resp->opcode != req->opcode) return false;
  if (resp->qdcount == 0) return true;
  if (resp->qdcount != req->qdcount || req->qdcount != 1) return false;
  size_t req_end = 0;
  size_t resp_end = 0;
  auto req_name = read_name_at(request, kHeaderSize, &req_end);
  auto resp_name = read_name_at(response, kHeaderSize, &resp_end);
  if (!req_name || !resp_name || !same_name(*req_name, *resp_name)) return false;
  if (req_end + 4 > request.size() || resp_end + 4 > response.size()) return false;
  return request.substr(req_end, 4) == response.substr(resp_end, 4);
}

}  // namespace ddnswatch::providers::dns
