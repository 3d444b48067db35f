#include "proxy/dns_forwarder.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

#include "common/ip_network.hpp"
#include "common/mask.hpp"
#include "proxy/device_match.hpp"
#include "proxy/inspection_events.hpp"
#include "proxy/neighbor_table.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

// The id an upstream sees: unpredictable, so an off-path attacker cannot forge the answer
// (with the per-query source port and the question check, the DNSpooq lessons).
std::uint16_t fresh_id() {
  std::uint16_t id = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) == 1) return id;
  static thread_local std::mt19937 fallback{std::random_device{}()};
  return static_cast<std::uint16_t>(fallback());
}

// The reply answers what was asked: a response under our id with the very question (name compared
// case-insensitively: resolvers may echo 0x20-mixed case), else it is ignored.
bool answers_question(std::span<const std::uint8_t> wire, std::uint16_t id, const DnsQuestion& question) {
  const auto reply = parse_dns_message(wire);
  return reply && reply->response && reply->id == id && reply->questions.size() == 1 &&
         reply->questions[0].lower == question.lower && reply->questions[0].qtype == question.qtype &&
         reply->questions[0].qclass == question.qclass;
}

// Closes a socket when its deadline passes: the pending read or write ends with an error.
template <typename Socket>
void arm_deadline(asio::steady_timer& timer, const std::shared_ptr<Socket>& socket, std::chrono::milliseconds after) {
  timer.expires_after(after);
  timer.async_wait([socket](error_code ec) {
    if (ec) return;
    error_code ignored;
    socket->close(ignored);
  });
}

}  // namespace

DnsForwarder::DnsForwarder(ProxyContext& context, asio::io_context& io, DnsSettings settings)
    : context_(context), strand_(asio::make_strand(io)), settings_(std::move(settings)) {}

void DnsForwarder::bind() {
  for (const auto& listen : settings_.listen) {
    const auto address = asio::ip::make_address(listen.host);
    // Port 0: the UDP socket picks a port and TCP takes the same one; if TCP finds it taken, try again.
    for (int attempt = 0;; ++attempt) {
      auto socket = std::make_shared<udp::socket>(strand_);
      auto acceptor = std::make_shared<tcp::acceptor>(strand_);
      const udp::endpoint requested(address, listen.port);
      socket->open(requested.protocol());
      if (address.is_v6()) socket->set_option(asio::ip::v6_only(true));
      error_code ec;
      socket->bind(requested, ec);
      if (ec) throw std::system_error(ec, "cannot listen for DNS on udp " + listen.to_string());
      const auto bound = socket->local_endpoint();
      const tcp::endpoint stream_end(bound.address(), bound.port());
      acceptor->open(stream_end.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      if (address.is_v6()) acceptor->set_option(asio::ip::v6_only(true));
      acceptor->bind(stream_end, ec);
      if (ec && listen.port == 0 && attempt < 16) continue;
      if (ec) throw std::system_error(ec, "cannot listen for DNS on tcp " + endpoint_string(stream_end));
      acceptor->listen(asio::socket_base::max_listen_connections);
      udp_.push_back(std::move(socket));
      tcp_.push_back(std::move(acceptor));
      std::fprintf(stderr, "dns listening on %s\n", endpoint_string(stream_end).c_str());
      break;
    }
  }
  std::fflush(stderr);
}

void DnsForwarder::start() {
  auto self = shared_from_this();
  for (const auto& socket : udp_) asio::co_spawn(strand_, serve_udp(socket), asio::detached);
  for (const auto& acceptor : tcp_) asio::co_spawn(strand_, accept_tcp(acceptor), asio::detached);
}

void DnsForwarder::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    error_code ignored;
    for (auto& socket : self->udp_) socket->close(ignored);
    for (auto& acceptor : self->tcp_) acceptor->close(ignored);
  });
}

bool DnsForwarder::client_allowed(const boost::asio::ip::address& client) {
  const auto config = context_.config();
  const auto address = unmap_v4(client);
  return std::any_of(config->clients_allow.begin(), config->clients_allow.end(),
                     [&](const IpNetwork& network) { return network.contains(address); });
}

awaitable<void> DnsForwarder::serve_udp(std::shared_ptr<udp::socket> socket) {
  auto self = shared_from_this();
  std::vector<std::uint8_t> buffer(max_dns_message);
  for (;;) {
    udp::endpoint from;
    error_code ec;
    const auto n = co_await socket->async_receive_from(asio::buffer(buffer), from, redirect_error(use_awaitable, ec));
    if (ec) {
      if (!socket->is_open()) co_return;
      continue;  // ICMP errors from an earlier reply and the like: the socket goes on
    }
    const tcp::endpoint client(from.address(), from.port());
    if (!client_allowed(from.address())) {
      // Datagrams are cheap to send from forged addresses: at most one event a second, saying how
      // many were dropped since the last one, so a flood cannot fill the event log.
      context_.counters().connections_refused++;
      ++refused_unreported_;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_refused_event_ < std::chrono::seconds(1)) continue;
      last_refused_event_ = now;
      Flow flow;
      flow.client = client;
      flow.transport = "dns";
      auto event = flow.event("error");
      event["error"] = "client_refused";
      event["detail"] = "client address is not in clients.allow (DNS queries dropped: " +
                        std::to_string(refused_unreported_) + " since the last such event)";
      refused_unreported_ = 0;
      context_.events().emit(std::move(event));
      continue;
    }
    std::vector<std::uint8_t> query(buffer.begin(), buffer.begin() + static_cast<long>(n));
    asio::co_spawn(
        strand_,
        [self, socket, from, client, query = std::move(query)]() mutable -> awaitable<void> {
          const auto reply = co_await self->answer(std::move(query), client, false);
          if (reply.empty() || !socket->is_open()) co_return;
          error_code ignored;
          co_await socket->async_send_to(asio::buffer(reply), from, redirect_error(use_awaitable, ignored));
        },
        asio::detached);
  }
}

awaitable<void> DnsForwarder::accept_tcp(std::shared_ptr<tcp::acceptor> acceptor) {
  auto self = shared_from_this();
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(strand_);
    error_code ec;
    co_await acceptor->async_accept(*socket, redirect_error(use_awaitable, ec));
    if (ec) {
      if (!acceptor->is_open()) co_return;
      asio::steady_timer pause(strand_, std::chrono::milliseconds(50));  // EMFILE: wait for descriptors
      co_await pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    asio::co_spawn(strand_, serve_tcp(std::move(socket)), asio::detached);
  }
}

awaitable<void> DnsForwarder::serve_tcp(std::shared_ptr<tcp::socket> socket) {
  auto self = shared_from_this();
  error_code ec;
  const auto client = socket->remote_endpoint(ec);
  if (ec) co_return;
  if (!client_allowed(client.address()) || tcp_clients_ >= settings_.max_pending) {
    const bool refused = !client_allowed(client.address());
    context_.counters().connections_refused++;
    Flow flow;
    flow.client = client;
    flow.transport = "dns";
    auto event = flow.event("error");
    event["error"] = refused ? "client_refused" : "too_many_connections";
    event["detail"] = refused ? "client address is not in clients.allow" : "dns.max_pending TCP clients are open";
    context_.events().emit(std::move(event));
    socket->close(ec);
    co_return;
  }
  ++tcp_clients_;
  // RFC 7766: each message is preceded by its length; queries are answered in order. A client that
  // says nothing for limits.idle_timeout_ms is closed.
  asio::steady_timer idle(strand_);
  const auto idle_timeout = context_.config()->limits.idle_timeout;
  for (;;) {
    arm_deadline(idle, socket, idle_timeout);
    std::array<std::uint8_t, 2> length{};
    co_await asio::async_read(*socket, asio::buffer(length), redirect_error(use_awaitable, ec));
    if (ec) break;
    std::vector<std::uint8_t> query(static_cast<std::size_t>(length[0]) << 8 | length[1]);
    co_await asio::async_read(*socket, asio::buffer(query), redirect_error(use_awaitable, ec));
    if (ec) break;
    idle.cancel();
    const auto reply = co_await answer(std::move(query), client, true);
    if (reply.empty() || !socket->is_open()) break;
    const std::array<std::uint8_t, 2> prefix{static_cast<std::uint8_t>(reply.size() >> 8),
                                             static_cast<std::uint8_t>(reply.size() & 0xFF)};
    arm_deadline(idle, socket, idle_timeout);
    const std::array<asio::const_buffer, 2> out{asio::buffer(prefix), asio::buffer(reply)};
    co_await asio::async_write(*socket, out, redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  idle.cancel();
  socket->close(ec);
  --tcp_clients_;
}

awaitable<std::optional<std::vector<std::uint8_t>>> DnsForwarder::ask_upstream(const std::vector<std::uint8_t>& query,
                                                                              const DnsQuestion& question,
                                                                              const ListenAddress& upstream,
                                                                              bool over_tcp) {
  const auto address = asio::ip::make_address(upstream.host);
  const std::uint16_t id = fresh_id();
  auto wire = query;
  set_dns_id(wire, id);
  asio::steady_timer deadline(strand_);
  error_code ec;
  if (over_tcp) {
    auto socket = std::make_shared<tcp::socket>(strand_);
    arm_deadline(deadline, socket, settings_.timeout);
    co_await socket->async_connect(tcp::endpoint(address, upstream.port), redirect_error(use_awaitable, ec));
    const std::array<std::uint8_t, 2> prefix{static_cast<std::uint8_t>(wire.size() >> 8),
                                             static_cast<std::uint8_t>(wire.size() & 0xFF)};
    const std::array<asio::const_buffer, 2> out{asio::buffer(prefix), asio::buffer(wire)};
    if (!ec) co_await asio::async_write(*socket, out, redirect_error(use_awaitable, ec));
    std::array<std::uint8_t, 2> length{};
    if (!ec) co_await asio::async_read(*socket, asio::buffer(length), redirect_error(use_awaitable, ec));
    std::vector<std::uint8_t> reply(static_cast<std::size_t>(length[0]) << 8 | length[1]);
    if (!ec) co_await asio::async_read(*socket, asio::buffer(reply), redirect_error(use_awaitable, ec));
    deadline.cancel();
    socket->close(ec);
    if (!ec && answers_question(reply, id, question)) co_return reply;
    co_return std::nullopt;
  }
  // A socket of its own per query: a fresh source port, and connect() makes the kernel drop
  // datagrams from anyone but this upstream.
  auto socket = std::make_shared<udp::socket>(strand_);
  const udp::endpoint to(address, upstream.port);
  socket->open(to.protocol(), ec);
  if (!ec) socket->connect(to, ec);
  if (ec) co_return std::nullopt;
  arm_deadline(deadline, socket, settings_.timeout);
  co_await socket->async_send(asio::buffer(wire), redirect_error(use_awaitable, ec));
  std::vector<std::uint8_t> buffer(max_dns_message);
  while (!ec) {
    const auto n = co_await socket->async_receive(asio::buffer(buffer), redirect_error(use_awaitable, ec));
    if (ec) break;
    const std::span<const std::uint8_t> reply(buffer.data(), n);
    if (answers_question(reply, id, question)) {
      deadline.cancel();
      co_return std::vector<std::uint8_t>(reply.begin(), reply.end());
    }
    // Another id or question: stale or forged. Ignored; the wait goes on until the deadline.
  }
  deadline.cancel();
  co_return std::nullopt;
}

void DnsForwarder::emit_dns(const Flow& flow, const DnsQuestion* question, std::string_view action, std::uint8_t rcode,
                            const std::vector<std::string>& answers, bool over_tcp, std::string_view detail) {
  auto event = flow.event("dns");
  if (question) {
    event["name"] = flow.secrets().empty() ? question->name : mask_occurrences(question->name, flow.secrets());
    event["qtype"] = dns_type_name(question->qtype);
  }
  event["protocol"] = over_tcp ? "tcp" : "udp";
  if (action != "dropped") event["rcode"] = dns_rcode_name(rcode);
  if (!answers.empty()) event["answers"] = answers;
  event["action"] = action;
  if (!detail.empty()) event["detail"] = detail;
  context_.events().emit(std::move(event));
}

awaitable<std::vector<std::uint8_t>> DnsForwarder::answer(std::vector<std::uint8_t> query, tcp::endpoint client,
                                                          bool over_tcp) {
  auto self = shared_from_this();
  const auto snapshot = context_.snapshot();
  const Config& config = *snapshot->config;
  Flow flow;
  flow.id = "dns-" + std::to_string(++next_flow_);
  flow.client = client;
  flow.transport = "dns";
  const auto address = unmap_v4(client.address());
  const DeviceProfile* device = match_device(config, address, [&] { return neighbor_mac(address); });
  if (device) flow.device = device->name;

  const auto message = parse_dns_message(query);
  if (!message || message->response) {
    // Not a query leakguard can read. With a whole header the client gets FORMERR under its id
    // (and stops waiting); a response sent to us, or a runt, gets nothing.
    auto reply = message ? std::vector<std::uint8_t>{} : build_dns_error_reply(query, dns_rcode::formerr);
    emit_dns(flow, nullptr, reply.empty() ? "dropped" : "refused", dns_rcode::formerr, {}, over_tcp,
             message ? "a response, not a query" : "malformed message");
    co_return reply;
  }
  if (!message->is_standard_query()) {
    // Not one question of a QUERY: nothing leakguard could inspect as one name, so nothing is
    // forwarded. Other opcodes (NOTIFY, UPDATE) get NOTIMP, zero or several questions FORMERR
    // (RFC 9619: QDCOUNT is one).
    const auto rcode = message->opcode != 0 ? dns_rcode::notimp : dns_rcode::formerr;
    emit_dns(flow, message->questions.size() == 1 ? &message->questions[0] : nullptr, "refused", rcode, {}, over_tcp,
             message->opcode != 0 ? "opcode " + std::to_string(message->opcode) + " is not QUERY"
                                  : std::to_string(message->questions.size()) + " questions (one is inspected)");
    co_return build_dns_error_reply(query, rcode);
  }

  const auto& question = message->questions.front();
  flow.set_host(question.name, "dns");
  ExchangeFacts facts;
  facts.device = flow.device;
  facts.host = question.lower;
  facts.transport = "dns";
  const auto learned = context_.learned_values(device ? "device:" + device->name : "client:" + address.to_string());
  InspectionContext inspection;
  inspection.device = device;
  inspection.learned = learned.get();
  inspection.transport = "dns";
  auto blocked = judge_name(context_, *snapshot, flow, facts, inspection, question.name, "dns.qname");
  if (!blocked && (blocked = forbidden_destination(config, facts))) emit_policy_event(context_, flow, *blocked, "", "");
  if (blocked) {
    // NXDOMAIN, not REFUSED: a stub resolver takes REFUSED as "this server is broken" and asks the
    // next one (a phone's second resolver may be outside leakguard); NXDOMAIN is an answer, cached
    // and final, and apps treat the name as gone.
    emit_dns(flow, &question, "blocked", dns_rcode::nxdomain, {}, over_tcp, blocked->reason);
    co_return build_dns_error_reply(query, dns_rcode::nxdomain);
  }

  if (pending_ >= settings_.max_pending) {
    if (!busy_reported_) {
      busy_reported_ = true;
      auto event = flow.event("error");
      event["error"] = "dns_busy";
      event["detail"] = "dns.max_pending queries wait for an upstream: more are answered SERVFAIL";
      context_.events().emit(std::move(event));
    }
    emit_dns(flow, &question, "failed", dns_rcode::servfail, {}, over_tcp, "dns.max_pending reached");
    co_return build_dns_error_reply(query, dns_rcode::servfail);
  }
  ++pending_;
  std::optional<std::vector<std::uint8_t>> reply;
  for (const auto& upstream : settings_.upstream) {
    reply = co_await ask_upstream(query, question, upstream, over_tcp);
    if (reply) break;
  }
  --pending_;
  if (pending_ < settings_.max_pending / 2) busy_reported_ = false;
  if (!reply) {
    emit_dns(flow, &question, "failed", dns_rcode::servfail, {}, over_tcp, "no upstream answered within dns.timeout_ms");
    co_return build_dns_error_reply(query, dns_rcode::servfail);
  }
  set_dns_id(*reply, message->id);
  const auto parsed = parse_dns_message(*reply);  // it parsed when it was matched
  std::vector<std::string> answers;
  // The name later connections are given: masked where it leaked, like every event that shows it.
  std::string remembered = flow.secrets().empty() ? question.name : mask_occurrences(question.name, flow.secrets());
  std::transform(remembered.begin(), remembered.end(), remembered.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (parsed) {
    for (const auto& resolved : parsed->resolved()) {
      error_code ec;
      const auto answer_address = asio::ip::make_address(resolved.address, ec);
      if (ec) continue;
      context_.dns_names().remember(DnsNameMap::client_key(flow.device, client.address()), answer_address, remembered,
                                    std::chrono::seconds(resolved.ttl));
      answers.push_back(resolved.address);
    }
  }
  emit_dns(flow, &question, "forwarded", parsed ? parsed->rcode : dns_rcode::noerror, answers, over_tcp);
  co_return std::move(*reply);
}

}  // namespace leakguard
