#include "resolvers/dns_message.h"

#include <ares.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/inet.h"

namespace ddnswatch::resolvers {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr int kMaxChain = 16;

struct RawRecord {
  size_t owner_at = 0;  // offset of the owner name in the message
  uint16_t type = 0;
  uint16_t qclass = 0;
  uint32_t ttl = 0;
  size_t rdata = 0;  // offset of the rdata in the message
  uint16_t rdlength = 0;
};

uint16_t read16(std::span<const uint8_t> m, size_t at) {
  return static_cast<uint16_t>((m[at] << 8) | m[at + 1]);
}
uint32_t read32(std::span<const uint8_t> m, size_t at) {
  return (static_cast<uint32_t>(m[at]) << 24) | (static_cast<uint32_t>(m[at + 1]) << 16) |
         (static_cast<uint32_t>(m[at + 2]) << 8) | m[at + 3];
}

// DNS names compare case-insensitively in ASCII only (RFC 4343), whatever the locale says.
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// inet_ntop goes through sprintf; addresses are the hot path of every answer.
std::string ipv4_text(const uint8_t* p) {
  char text[16];
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned v = p[i];
    if (v >= 100) text[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) text[n++] = static_cast<char>('0' + v / 10 % 10);
    text[n++] = static_cast<char>('0' + v % 10);
    if (i < 3) text[n++] = '.';
  }
  return std::string(text, n);
}

std::string_view strip_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

/// Reads a possibly compressed name at `at` (c-ares does the pointer following and its loop
/// checks); advances `at` past the name's encoding.
Result<std::string> read_name(std::span<const uint8_t> m, size_t& at) {
  if (at >= m.size()) return make_error(ErrorCode::kCorrupt, "name runs past the end");
  char* raw = nullptr;
  long encoded_length = 0;
  int status =
      ares_expand_name(m.data() + at, m.data(), static_cast<int>(m.size()), &raw, &encoded_length);
  if (status != ARES_SUCCESS) {
    return make_error(ErrorCode::kCorrupt, fmt::format("bad name at offset {}", at));
  }
  std::unique_ptr<char, decltype(&ares_free_string)> owned(raw, &ares_free_string);
  at += static_cast<size_t>(encoded_length);
  return std::string(strip_dot(raw));
}

/// Walks the (possibly compressed) name at `at` without copying it: checks that it is well
/// formed (in bounds, no pointer loop, at most 255 bytes) and, when `compare` is given,
/// whether it equals that dotted name (ASCII case-insensitive). `end` receives the offset just
/// past the name's encoding. Every answer's owner names go through here, so no allocation.
enum class NameCheck { kBad, kEqual, kDifferent };
NameCheck walk_name(std::span<const uint8_t> m, size_t at, const std::string_view* compare,
                    size_t* end = nullptr) {
  constexpr int kMaxHops = 128;
  constexpr size_t kMaxLength = 255;
  bool equal = compare != nullptr;
  const std::string_view want = equal ? *compare : std::string_view();
  size_t pos = 0;  // in want
  size_t length = 0;
  int hops = 0;
  bool jumped = false;
  while (true) {
    if (at >= m.size()) return NameCheck::kBad;
    const uint8_t label = m[at];
    if ((label & 0xC0) == 0xC0) {
      if (at + 1 >= m.size() || ++hops > kMaxHops) return NameCheck::kBad;
      if (!jumped && end != nullptr) *end = at + 2;
      jumped = true;
      at = static_cast<size_t>((label & 0x3F) << 8) | m[at + 1];
      continue;
    }
    if ((label & 0xC0) != 0) return NameCheck::kBad;  // extended label types: not in use
    if (label == 0) {
      if (!jumped && end != nullptr) *end = at + 1;
      if (equal && pos != want.size()) equal = false;
      return compare == nullptr ? NameCheck::kDifferent
                                : (equal ? NameCheck::kEqual : NameCheck::kDifferent);
    }
    if (at + 1 + label > m.size()) return NameCheck::kBad;
    length += label + 1u;
    if (length > kMaxLength) return NameCheck::kBad;
    if (equal) {
      if (pos > 0) {
        if (pos >= want.size() || want[pos] != '.') {
          equal = false;
        } else {
          ++pos;
        }
      }
      if (equal && pos + label <= want.size()) {
        // Names mostly come back in the case they were asked in: fold only when the bytes
        // differ.
        const uint8_t* got = m.data() + at + 1;
        if (std::memcmp(got, want.data() + pos, label) != 0) {
          for (size_t i = 0; i < label; ++i) {
            if (ascii_lower(static_cast<char>(got[i])) != ascii_lower(want[pos + i])) {
              equal = false;
              break;
            }
          }
        }
        pos += label;
      } else {
        equal = false;
      }
    }
    at += 1 + label;
  }
}

bool name_is(std::span<const uint8_t> m, size_t at, std::string_view name) {
  return walk_name(m, at, &name) == NameCheck::kEqual;
}

// The question's name starts right after the header; most answers point their owner names
// at it (0xC00C).
constexpr size_t kQuestionName = kHeaderSize;
bool points_to_question(std::span<const uint8_t> m, size_t at) {
  return at + 1 < m.size() && m[at] == (0xC0 | (kQuestionName >> 8)) &&
         m[at + 1] == (kQuestionName & 0xff);
}

/// Reads a record's header, once the question was read and checked (a pointer to the
/// question's name needs no second walk).
Result<RawRecord> read_record(std::span<const uint8_t> m, size_t& at) {
  RawRecord r;
  r.owner_at = at;
  size_t end = 0;
  if (points_to_question(m, at)) {
    end = at + 2;
  } else if (walk_name(m, at, nullptr, &end) == NameCheck::kBad) {
    return make_error(ErrorCode::kCorrupt, fmt::format("bad name at offset {}", at));
  }
  at = end;
  if (at + 10 > m.size()) return make_error(ErrorCode::kCorrupt, "record header truncated");
  r.type = read16(m, at);
  r.qclass = read16(m, at + 2);
  r.ttl = read32(m, at + 4);
  // RFC 2181 section 8: a TTL with the top bit set is treated as zero.
  if (r.ttl > 0x7fffffffu) r.ttl = 0;
  r.rdlength = read16(m, at + 8);
  r.rdata = at + 10;
  at = r.rdata + r.rdlength;
  if (at > m.size()) return make_error(ErrorCode::kCorrupt, "record data truncated");
  return r;
}

Result<std::string> decode_rdata(std::span<const uint8_t> m, const RawRecord& r) {
  switch (static_cast<QType>(r.type)) {
    case QType::kA:
    case QType::kAAAA: {
      const bool v4 = r.type == static_cast<uint16_t>(QType::kA);
      const size_t want = v4 ? 4 : 16;
      if (r.rdlength != want) {
        return make_error(ErrorCode::kCorrupt,
                          fmt::format("address record of {} bytes", r.rdlength));
      }
      if (v4) return ipv4_text(m.data() + r.rdata);
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(AF_INET6, m.data() + r.rdata, text, sizeof text);
      return std::string(text);
    }
    case QType::kNS:
    case QType::kCNAME: {
      size_t at = r.rdata;
      auto name = read_name(m, at);
      if (name && at != r.rdata + r.rdlength) {
        return make_error(ErrorCode::kCorrupt, "name record with trailing data");
      }
      return name;
    }
    case QType::kTXT: {
      // Character-strings of one record are concatenated, as SPF and DKIM readers do.
      std::string text;
      size_t at = r.rdata;
      const size_t end = r.rdata + r.rdlength;
      while (at < end) {
        const size_t length = m[at++];
        if (at + length > end) return make_error(ErrorCode::kCorrupt, "TXT string truncated");
        text.append(reinterpret_cast<const char*>(m.data() + at), length);
        at += length;
      }
      return text;
    }
    case QType::kSOA:
      break;
  }
  return std::string();
}

Result<SoaData> decode_soa(std::span<const uint8_t> m, const RawRecord& r) {
  SoaData soa;
  size_t owner_at = r.owner_at;
  auto zone = read_name(m, owner_at);
  if (!zone) return tl::unexpected(zone.error());
  soa.zone = std::move(*zone);
  soa.ttl = r.ttl;
  size_t at = r.rdata;
  auto mname = read_name(m, at);
  if (!mname) return tl::unexpected(mname.error());
  auto rname = read_name(m, at);
  if (!rname) return tl::unexpected(rname.error());
  if (at + 20 != r.rdata + r.rdlength) return make_error(ErrorCode::kCorrupt, "SOA of bad size");
  soa.mname = std::move(*mname);
  soa.rname = std::move(*rname);
  soa.serial = read32(m, at);
  soa.refresh = read32(m, at + 4);
  soa.retry = read32(m, at + 8);
  soa.expire = read32(m, at + 12);
  soa.minimum = read32(m, at + 16);
  return soa;
}

}  // namespace

Outcome outcome_for_rcode(int rcode, bool has_records) {
  switch (rcode) {
    case 0:
      return has_records ? Outcome::kNoError : Outcome::kNoData;
    case 2:
      return Outcome::kServFail;
    case 3:
      return Outcome::kNxDomain;
    default:
      // FORMERR, NOTIMP, REFUSED, NOTAUTH and the rest: the server declines to answer.
      return Outcome::kRefused;
  }
}

size_t build_query(const Question& question, bool recursion, uint16_t id,
                   std::span<uint8_t, kMaxQuerySize> out) {
  std::string_view name = question.name;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  // Every label costs one length byte and the root one more: 253 characters fill 255 bytes. A
  // backslash is c-ares's escape, which ares_query reads.
  if (name.empty() || name.size() > 253 || name.find('\\') != std::string_view::npos) return 0;
  const uint8_t header[12] = {static_cast<uint8_t>(id >> 8),
                              static_cast<uint8_t>(id & 0xff),
                              static_cast<uint8_t>(recursion ? 0x01 : 0x00),
                              0,
                              0,
                              1,  // QDCOUNT
                              0,
                              0,
                              0,
                              0,
                              0,
                              1};  // ARCOUNT: the OPT record
  std::memcpy(out.data(), header, sizeof header);
  size_t n = sizeof header;
  for (size_t start = 0; start <= name.size();) {
    const size_t dot = std::min(name.find('.', start), name.size());
    const size_t label = dot - start;
    if (label == 0 || label > 63) return 0;
    out[n++] = static_cast<uint8_t>(label);
    std::memcpy(out.data() + n, name.data() + start, label);
    n += label;
    start = dot + 1;
  }
  out[n++] = 0;
  const auto type = static_cast<uint16_t>(question.type);
  const auto qclass = static_cast<uint16_t>(question.qclass);
  // Type and class, then the OPT record: the root's name, TYPE 41, CLASS = the UDP payload
  // size, TTL 0 (no extended rcode, version 0, no DO bit), no data.
  const uint8_t tail[15] = {static_cast<uint8_t>(type >> 8),
                            static_cast<uint8_t>(type & 0xff),
                            static_cast<uint8_t>(qclass >> 8),
                            static_cast<uint8_t>(qclass & 0xff),
                            0,
                            0,
                            41,
                            kEdnsUdpSize >> 8,
                            kEdnsUdpSize & 0xff,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0};
  std::memcpy(out.data() + n, tail, sizeof tail);
  return n + sizeof tail;
}

Result<Answer> parse_response(std::span<const uint8_t> m, const Question& question) {
  if (m.size() < kHeaderSize) return make_error(ErrorCode::kCorrupt, "shorter than a header");
  Answer answer;
  const uint16_t flags = read16(m, 2);
  if ((flags & 0x8000) == 0) return make_error(ErrorCode::kCorrupt, "QR bit not set");
  // The engine only sends standard queries: any other opcode answers something else.
  if (const int opcode = (flags >> 11) & 0xf; opcode != 0) {
    return make_error(ErrorCode::kCorrupt, fmt::format("opcode {} in the answer", opcode));
  }
  answer.authoritative = (flags & 0x0400) != 0;
  answer.truncated = (flags & 0x0200) != 0;
  answer.recursion_available = (flags & 0x0080) != 0;
  answer.rcode = flags & 0x000f;
  const uint16_t qdcount = read16(m, 4);
  const uint16_t ancount = read16(m, 6);
  const uint16_t nscount = read16(m, 8);

  size_t at = kHeaderSize;
  if (qdcount != 1) {
    return make_error(ErrorCode::kCorrupt, fmt::format("{} questions in the answer", qdcount));
  }
  const std::string_view asked = strip_dot(question.name);
  size_t question_end = 0;
  const NameCheck qname = walk_name(m, at, &asked, &question_end);
  if (qname == NameCheck::kBad) {
    return make_error(ErrorCode::kCorrupt, fmt::format("bad name at offset {}", at));
  }
  at = question_end;
  if (at + 4 > m.size()) return make_error(ErrorCode::kCorrupt, "question truncated");
  if (qname != NameCheck::kEqual || read16(m, at) != static_cast<uint16_t>(question.type) ||
      read16(m, at + 2) != static_cast<uint16_t>(question.qclass)) {
    return make_error(ErrorCode::kCorrupt, "answer is for another question");
  }
  at += 4;

  // The records' places, in buffers kept from one answer to the next (per thread): an
  // answer is parsed on the hot path of every query.
  thread_local std::vector<RawRecord> answers;
  thread_local std::vector<RawRecord> authority;
  answers.clear();
  authority.clear();
  for (int i = 0; i < ancount; ++i) {
    auto r = read_record(m, at);
    if (!r) return tl::unexpected(r.error());
    answers.push_back(*r);
  }
  for (int i = 0; i < nscount; ++i) {
    auto r = read_record(m, at);
    if (!r) return tl::unexpected(r.error());
    authority.push_back(*r);
  }

  // Follow CNAMEs from the question's name (unless CNAME itself was asked). `current` views
  // the question or the chain's last name, reset after each push_back. While it is the
  // question's name, an owner that points there is equal without a walk.
  std::string_view current = asked;
  bool at_question = true;
  auto owner_is_current = [&](const RawRecord& r) {
    return (at_question && points_to_question(m, r.owner_at)) || name_is(m, r.owner_at, current);
  };
  if (question.type != QType::kCNAME) {
    for (int step = 0; step < kMaxChain; ++step) {
      auto it = std::find_if(answers.begin(), answers.end(), [&](const RawRecord& r) {
        return r.type == static_cast<uint16_t>(QType::kCNAME) && owner_is_current(r);
      });
      if (it == answers.end()) break;
      auto target = decode_rdata(m, *it);
      if (!target) return tl::unexpected(target.error());
      answer.cname_chain.push_back(std::move(*target));
      current = answer.cname_chain.back();
      at_question = false;
    }
  }

  answer.records.reserve(answers.size());
  for (const RawRecord& r : answers) {
    if (r.type != static_cast<uint16_t>(question.type) ||
        r.qclass != static_cast<uint16_t>(question.qclass) || !owner_is_current(r)) {
      continue;
    }
    if (question.type == QType::kSOA) {
      auto soa = decode_soa(m, r);
      if (!soa) return tl::unexpected(soa.error());
      answer.records.push_back(
          {fmt::format("{} {} {}", soa->mname, soa->rname, soa->serial), soa->ttl});
      answer.soa = std::move(*soa);
      continue;
    }
    auto value = decode_rdata(m, r);
    if (!value) return tl::unexpected(value.error());
    answer.records.push_back({std::move(*value), r.ttl});
  }
  if (!answer.soa) {
    for (const RawRecord& r : authority) {
      if (r.type != static_cast<uint16_t>(QType::kSOA)) continue;
      auto soa = decode_soa(m, r);
      if (!soa) return tl::unexpected(soa.error());
      answer.soa = std::move(*soa);
      break;
    }
  }
  answer.outcome = outcome_for_rcode(answer.rcode, !answer.records.empty());
  return answer;
}

}  // namespace ddnswatch::resolvers
