#include "ipdetect/ip_detector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <random>

#include "ipdetect/answer_parser.h"
#include "ipdetect/backoff.h"

namespace ddnswatch::ipdetect {
namespace {

using Kind = config::IpSourceSpec::Kind;

constexpr size_t kMaxEchoBytes = size_t{16} * 1024;  // an address fits many times over
constexpr Duration kMaxConnectTimeout = std::chrono::seconds(5);
constexpr Duration kMinDnsTryTimeout = std::chrono::milliseconds(250);
constexpr int kDnsTries = 2;

size_t index_of(Family f) { return f == Family::kIpv4 ? 0 : 1; }

struct Source {
  std::string name;  // as written in the config
  Family family = Family::kIpv4;
  std::optional<config::IpSourceSpec> spec;
  std::string error;        // why the source cannot be asked (its config, its resolver)
  std::string resolver_id;  // kDns
  SourceBackoff backoff;    // network sources only

  bool networked() const { return spec && (spec->kind == Kind::kHttp || spec->kind == Kind::kDns); }
};

/// One detection of one family, from the first question to the verdict.
struct Round {
  Family family = Family::kIpv4;
  int quorum = 1;
  std::vector<std::shared_ptr<Source>> sources;
  std::vector<SourceAnswer> answers;
  std::vector<SteadyTime> started;
  size_t pending = 0;
  std::vector<std::function<void(Detection)>> waiters;
};

/// How a network source's request ended.
struct Reply {
  Result<std::string> address;  // canonical, checked
  long http_status = 0;
  std::optional<Duration> retry_after;
};

}  // namespace

struct IpDetector::Impl : std::enable_shared_from_this<IpDetector::Impl> {
  Impl(EventLoop& l, net::HttpClient& h, resolvers::DnsEngine& d, const Clock& c,
       IpDetectObserver* o)
      : loop(l), http(h), dns(d), clock(c), observer(o), rng(std::random_device{}()) {}

  EventLoop& loop;
  net::HttpClient& http;
  resolvers::DnsEngine& dns;
  const Clock& clock;
  IpDetectObserver* observer;

  config::DetectConfig config;
  AddressFilter filter;
  std::vector<std::shared_ptr<Source>> sources[2];
  int quorum[2] = {1, 1};
  std::map<std::string, resolvers::ResolverSpec> resolvers;  // ours in the engine, by id
  std::shared_ptr<Round> running[2];
  InterfaceReader interfaces = InterfaceReader::system();
  std::function<double()> jitter;
  std::mt19937 rng;

  double draw_jitter() {
    if (jitter) return jitter();
    return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  }

  void configure(const config::DetectConfig& c);
  resolvers::ResolverSpec resolver_spec(const Source& s) const;
  void detect(Family family, std::function<void(Detection)> done);
  void start(const std::shared_ptr<Round>& round);
  Result<std::string> ask_interface(const Source& s);
  void ask_http(const std::shared_ptr<Round>& round, size_t i);
  void ask_dns(const std::shared_ptr<Round>& round, size_t i);
  void record(Round& round, size_t i, Reply reply);
  void finish(const std::shared_ptr<Round>& round);
};

void IpDetector::Impl::configure(const config::DetectConfig& c) {
  config = c;
  if (auto f = AddressFilter::create(c.allow)) {
    filter = std::move(*f);
  } else {
    // The loader checked the list; a config built in code may not have been.
    spdlog::error("ip detection: {}; no exceptions to the bogon filter", f.error().message);
    filter = AddressFilter();
  }
  std::map<std::string, resolvers::ResolverSpec> wanted;
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    const auto& fam = family == Family::kIpv4 ? c.ipv4 : c.ipv6;
    auto& list = sources[index_of(family)];
    std::vector<std::shared_ptr<Source>> next;
    std::vector<std::string> names;
    if (fam) {
      quorum[index_of(family)] = fam->quorum;
      for (const auto& name : fam->sources) {
        names.push_back(name);
        auto kept =
            std::find_if(list.begin(), list.end(), [&](const auto& s) { return s->name == name; });
        if (kept != list.end()) {
          next.push_back(*kept);
          continue;
        }
        auto s = std::make_shared<Source>();
        s->name = name;
        s->family = family;
        if (auto spec = config::parse_ip_source(name, family == Family::kIpv6)) {
          s->spec = std::move(*spec);
          if (s->spec->kind == Kind::kDns) {
            s->resolver_id = fmt::format("ipdetect/{}/{}", to_string(family), name);
          }
        } else {
          s->error = spec.error();
        }
        next.push_back(std::move(s));
      }
    } else {
      quorum[index_of(family)] = 1;
    }
    for (const auto& s : next) {
      if (!s->resolver_id.empty()) wanted[s->resolver_id] = resolver_spec(*s);
    }
    list = std::move(next);
    if (observer) observer->ip_sources_configured(to_string(family), names);
  }
  // The engine's resolvers follow: unchanged ones stay (with their sockets), others are
  // replaced; a query in flight to a removed one ends as "cancelled".
  for (auto it = resolvers.begin(); it != resolvers.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || !(w->second == it->second)) {
      dns.remove_resolver(it->first);
      it = resolvers.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& list : sources) {
    for (auto& s : list) {
      if (s->resolver_id.empty() || resolvers.count(s->resolver_id)) continue;
      const auto& spec = wanted.at(s->resolver_id);
      if (auto added = dns.add_resolver(spec)) {
        resolvers.emplace(s->resolver_id, spec);
        s->error.clear();
      } else {
        s->error = "cannot set up the DNS query: " + added.error().message;
      }
    }
  }
}

resolvers::ResolverSpec IpDetector::Impl::resolver_spec(const Source& s) const {
  resolvers::ResolverSpec r;
  r.id = s.resolver_id;
  r.address = s.spec->dns_server;
  r.port = s.spec->dns_port;
  r.recursion = s.spec->dns_recursion;
  r.timeout = std::max(kMinDnsTryTimeout, config.timeout / kDnsTries);
  r.tries = kDnsTries;
  r.max_in_flight = 4;
  return r;
}

void IpDetector::Impl::detect(Family family, std::function<void(Detection)> done) {
  const size_t f = index_of(family);
  if (running[f]) {
    running[f]->waiters.push_back(std::move(done));
    return;
  }
  auto round = std::make_shared<Round>();
  round->family = family;
  round->quorum = quorum[f];
  round->sources = sources[f];
  round->waiters.push_back(std::move(done));
  running[f] = round;
  start(round);
}

void IpDetector::Impl::start(const std::shared_ptr<Round>& round) {
  const size_t n = round->sources.size();
  round->answers.resize(n);
  round->started.resize(n);
  for (size_t i = 0; i < n; ++i) {
    round->started[i] = clock.steady_now();
    Source& s = *round->sources[i];
    SourceAnswer& a = round->answers[i];
    a.source = s.name;
    if (!s.error.empty() || !s.spec) {
      a.error = s.error;
      continue;
    }
    if (s.networked()) {
      if (Duration rest = s.backoff.remaining(round->started[i]); rest > Duration::zero()) {
        a.skipped = true;
        a.error = fmt::format("backing off for {} more: {}", format_rest(rest), s.backoff.reason());
        continue;
      }
    }
    switch (s.spec->kind) {
      case Kind::kStatic:
      case Kind::kInterface: {
        auto address = s.spec->kind == Kind::kStatic ? filter.check(s.spec->address, s.family)
                                                     : ask_interface(s);
        if (address) {
          a.address = std::move(*address);
        } else {
          a.error = address.error().message;
        }
        a.elapsed = std::chrono::duration_cast<Duration>(clock.steady_now() - round->started[i]);
        if (observer)
          observer->ip_source_result(s.name, to_string(s.family), a.address.has_value());
        break;
      }
      case Kind::kHttp:
        ++round->pending;
        ask_http(round, i);
        break;
      case Kind::kDns:
        ++round->pending;
        ask_dns(round, i);
        break;
    }
  }
  if (round->pending == 0) {
    // Nothing to wait for, but `done` must not run inside detect().
    loop.post([weak = weak_from_this(), round] {
      if (auto self = weak.lock()) self->finish(round);
    });
  }
}

Result<std::string> IpDetector::Impl::ask_interface(const Source& s) {
  if (s.family == Family::kIpv4) {
    auto entries = interfaces.list_ipv4();
    if (!entries) return tl::unexpected(entries.error());
    return choose_ipv4(*entries, s.spec->interface, filter);
  }
  auto text = interfaces.read_if_inet6();
  if (!text) return tl::unexpected(text.error());
  return choose_ipv6(parse_if_inet6(*text), *s.spec, filter);
}

void IpDetector::Impl::ask_http(const std::shared_ptr<Round>& round, size_t i) {
  const Source& s = *round->sources[i];
  net::HttpRequest rq;
  rq.url = s.spec->url;
  rq.timeout = config.timeout;
  rq.connect_timeout = std::min(config.timeout, kMaxConnectTimeout);
  rq.ca_file = config.ca_file;
  rq.max_response_bytes = kMaxEchoBytes;
  rq.ip_resolve = s.family == Family::kIpv4 ? net::IpResolve::kIpv4 : net::IpResolve::kIpv6;
  // A cache between us and the service would answer with someone else's address.
  rq.headers = {{"Cache-Control", "no-cache"}};
  const auto format = s.spec->format;
  const Family family = s.family;
  http.send(std::move(rq), [weak = weak_from_this(), round, i, format, family](net::HttpResult r) {
    auto self = weak.lock();
    if (!self) return;
    Reply reply{make_error(ErrorCode::kIo, ""), 0, std::nullopt};
    if (!r.transferred()) {
      reply.address = make_error(ErrorCode::kIo, r.describe());
    } else if (!r.ok()) {
      reply.http_status = r.status;
      std::string why = fmt::format("HTTP {}", r.status);
      if (auto h = r.header("retry-after")) {
        reply.retry_after = net::parse_retry_after(*h, self->clock.wall_now());
        if (reply.retry_after)
          why += fmt::format(" (Retry-After {})", format_rest(*reply.retry_after));
      }
      reply.address = make_error(ErrorCode::kIo, why);
    } else {
      auto text = parse_echo_answer(format, r.body, r.header("content-type"));
      reply.address = text ? self->filter.check(*text, family) : tl::unexpected(text.error());
    }
    self->record(*round, i, std::move(reply));
    if (--round->pending == 0) self->finish(round);
  });
}

void IpDetector::Impl::ask_dns(const std::shared_ptr<Round>& round, size_t i) {
  const Source& s = *round->sources[i];
  resolvers::Question q;
  q.name = s.spec->dns_name;
  q.type = resolvers::parse_qtype(s.spec->dns_type).value_or(resolvers::QType::kA);
  q.qclass = s.spec->dns_chaos ? resolvers::QClass::kCH : resolvers::QClass::kIN;
  const Family family = s.family;
  const auto type = q.type;
  dns.query(s.resolver_id, std::move(q),
            [weak = weak_from_this(), round, i, family, type](const resolvers::Answer& answer) {
              auto self = weak.lock();
              if (!self) return;
              Reply reply{make_error(ErrorCode::kIo, ""), 0, std::nullopt};
              auto text = parse_dns_answer(answer, type);
              reply.address =
                  text ? self->filter.check(*text, family) : tl::unexpected(text.error());
              self->record(*round, i, std::move(reply));
              if (--round->pending == 0) self->finish(round);
            });
}

void IpDetector::Impl::record(Round& round, size_t i, Reply reply) {
  Source& s = *round.sources[i];
  SourceAnswer& a = round.answers[i];
  const SteadyTime now = clock.steady_now();
  a.elapsed = std::chrono::duration_cast<Duration>(now - round.started[i]);
  if (reply.address) {
    a.address = std::move(*reply.address);
    s.backoff.succeeded();
  } else {
    const std::string why = reply.address.error().message;
    const Duration rest =
        s.backoff.failed(now, reply.http_status, reply.retry_after, draw_jitter(), why);
    a.error = fmt::format("{}, backing off {}", why, format_rest(rest));
  }
  spdlog::debug("ip source {} ({}): {}", s.name, to_string(s.family),
                a.address ? *a.address : a.error);
  if (observer) observer->ip_source_result(s.name, to_string(s.family), a.address.has_value());
}

void IpDetector::Impl::finish(const std::shared_ptr<Round>& round) {
  const size_t f = index_of(round->family);
  if (running[f] == round) running[f].reset();
  Detection d = round->sources.empty()
                    ? Detection{round->family,
                                std::nullopt,
                                0,
                                0,
                                round->quorum,
                                {},
                                fmt::format("{}: no sources configured", to_string(round->family))}
                    : decide(round->family, std::move(round->answers), round->quorum);
  if (observer) observer->ip_sources_agreeing(to_string(round->family), d.agreeing);
  auto waiters = std::move(round->waiters);
  for (auto& done : waiters) {
    if (done) done(d);
  }
}

IpDetector::IpDetector(EventLoop& loop, net::HttpClient& http, resolvers::DnsEngine& dns,
                       const Clock& clock, IpDetectObserver* observer)
    : impl_(std::make_shared<Impl>(loop, http, dns, clock, observer)) {}

IpDetector::~IpDetector() {
  for (const auto& [id, spec] : impl_->resolvers) impl_->dns.remove_resolver(id);
}

void IpDetector::configure(const config::DetectConfig& config) { impl_->configure(config); }

void IpDetector::detect(Family family, std::function<void(Detection)> done) {
  impl_->detect(family, std::move(done));
}

void IpDetector::set_interface_reader(InterfaceReader reader) {
  impl_->interfaces = std::move(reader);
}

void IpDetector::set_jitter(std::function<double()> jitter) { impl_->jitter = std::move(jitter); }

}  // namespace ddnswatch::ipdetect
