#include "transport/sip/sip_user_agent.h"

#include <algorithm>

#include "media/util/text.h"
#include "transport/sip/sip_uri.h"
#include "transport/sip/sip_writer.h"

namespace atrium::sip {
namespace {

constexpr std::string_view kAllow = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE";

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kDigits[v & 0xF];
    v >>= 4;
  }
  return s;
}

bool has_option(const SipMessage& m, std::string_view header, std::string_view option) {
  bool found = false;
  m.each_value(header, [&](std::string_view v) {
    if (iequals(v, option)) found = true;
  });
  return found;
}

}  // namespace

SipUserAgent::SipUserAgent(SipUserAgentConfig config, uint64_t seed)
    : config_(std::move(config)), rng_(seed) {
  if (!config_.digest_password.empty())
    auth_.emplace(config_.digest_realm, config_.digest_password,
                  config_.nonce_key.empty() ? hex(splitmix(rng_)) + hex(splitmix(rng_)) : config_.nonce_key);
}

std::string SipUserAgent::new_tag() {
  return hex(splitmix(rng_)).substr(0, 12);
}

std::string SipUserAgent::contact() const {
  return "<sip:atrium@" + config_.host + ":" + std::to_string(config_.port) + ">";
}

void SipUserAgent::send(const SipAddress& to, std::string bytes) {
  if (out_.size() >= kMaxQueued) out_.pop_front();
  out_.push_back({to, std::move(bytes)});
}

void SipUserAgent::emit(SipEvent event) {
  if (events_.size() >= kMaxQueued) events_.pop_front();
  events_.push_back(std::move(event));
}

std::optional<SipDatagram> SipUserAgent::pop_datagram() {
  if (out_.empty()) return std::nullopt;
  SipDatagram d = std::move(out_.front());
  out_.pop_front();
  return d;
}

std::optional<SipEvent> SipUserAgent::pop_event() {
  if (events_.empty()) return std::nullopt;
  SipEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void SipUserAgent::respond(const SipAddress& to, const SipMessage& req, int status, std::string_view reason,
                           std::string_view to_tag,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::string_view body) {
  ResponseParts p;
  p.status = status;
  p.reason = reason;
  p.to_tag = to_tag;
  p.received_ip = to.ip;
  p.received_port = to.port;
  p.headers = headers;
  p.body = body;
  send(to, write_response(req, p));
}

void SipUserAgent::respond_invite(Call& c, int status, std::string_view reason, std::string_view body,
                                  const std::vector<std::pair<std::string, std::string>>& extra) {
  auto m = SipMessage::parse(c.invite);
  if (!m) return;  // it parsed when it arrived
  std::vector<std::pair<std::string, std::string>> headers = extra;
  if (status >= 200 && status < 300) {
    headers.emplace_back("Contact", contact());
    headers.emplace_back("Allow", std::string(kAllow));
    if (c.session_expires) {
      headers.emplace_back("Session-Expires", std::to_string(c.session_expires) + ";refresher=uac");
      if (has_option(*m, "Supported", "timer")) headers.emplace_back("Require", "timer");
    }
  }
  ResponseParts p;
  p.status = status;
  p.reason = reason;
  p.to_tag = c.local_tag;
  p.received_ip = c.peer.ip;
  p.received_port = c.peer.port;
  p.headers = std::move(headers);
  p.body = body;
  c.last_response = write_response(*m, p);
  send(c.peer, c.last_response);
}

void SipUserAgent::receive(media::Micros now, const SipAddress& from, std::string_view datagram) {
  // Keep-alives (RFC 5626 §4.4.1: CRLF pings) are not messages.
  if (datagram.find_first_not_of("\r\n") == std::string_view::npos) return;
  std::string error;
  auto m = SipMessage::parse(datagram, &error);
  if (!m) {
    ++counters_.malformed;
    return;  // no Via to answer to, or not SIP at all
  }
  if (m->is_request()) {
    ++counters_.requests;
    on_request(now, from, *m, datagram);
  } else {
    ++counters_.responses_in;
    on_response(now, *m);
  }
}

SipUserAgent::Call* SipUserAgent::find_dialog(const SipMessage& m) {
  const std::string_view id = m.call_id();
  const std::string_view tag = m.to_tag();
  for (auto& [h, c] : calls_)
    if (c.call_id == id && (tag.empty() || c.local_tag == tag)) return &c;
  return nullptr;
}

SipUserAgent::Call* SipUserAgent::find_by_handle(CallHandle h) {
  auto it = calls_.find(h);
  return it == calls_.end() ? nullptr : &it->second;
}

void SipUserAgent::on_request(media::Micros now, const SipAddress& from, const SipMessage& m,
                              std::string_view raw) {
  const std::string_view method = m.method();
  if (!m.cseq_number() || m.cseq_method() != method) {
    ++counters_.malformed;
    respond(from, m, 400, "Bad CSeq", new_tag());
    return;
  }
  if (method == "INVITE") return on_invite(now, from, m, raw);
  if (method == "ACK") return on_ack(now, m);
  if (method == "CANCEL") return on_cancel(now, from, m);
  if (method == "BYE") return on_bye(now, from, m);
  if (method == "OPTIONS") {
    respond(from, m, 200, "OK", new_tag(),
            {{"Allow", std::string(kAllow)}, {"Accept", "application/sdp"}, {"Supported", "timer"}});
    return;
  }
  if (method == "UPDATE") {
    Call* c = find_dialog(m);
    if (!c || m.to_tag().empty() || !c->live) {
      ++counters_.unknown_dialog;
      respond(from, m, 481, "Call/Transaction Does Not Exist");
      return;
    }
    if (!m.body().empty()) {
      respond(from, m, 488, "Not Acceptable Here");  // media changes come by re-INVITE
      return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (c->session_expires) {
      c->session_expires_at = now + static_cast<media::Micros>(c->session_expires) * 1000000;
      headers.emplace_back("Session-Expires", std::to_string(c->session_expires) + ";refresher=uac");
    }
    respond(from, m, 200, "OK", {}, headers);
    return;
  }
  respond(from, m, 405, "Method Not Allowed", new_tag(), {{"Allow", std::string(kAllow)}});
}

void SipUserAgent::on_invite(media::Micros now, const SipAddress& from, const SipMessage& m,
                             std::string_view raw) {
  const uint32_t cseq = *m.cseq_number();
  // A retransmission of an INVITE we have: the last response again (§17.2.1).
  for (auto& [h, c] : calls_) {
    if (c.call_id == m.call_id() && c.invite_cseq == cseq && c.invite_branch == m.via_branch()) {
      ++counters_.retransmissions_in;
      if (!c.last_response.empty()) send(c.peer, c.last_response);
      return;
    }
  }
  if (!m.to_tag().empty()) {
    Call* c = find_dialog(m);
    if (!c || !c->live || c->state == State::kByeSent) {
      ++counters_.unknown_dialog;
      respond(from, m, 481, "Call/Transaction Does Not Exist");
      return;
    }
    return on_reinvite(now, *c, from, m, raw);
  }
  const auto uri = parse_sip_uri(m.request_uri());
  if (!uri) {
    respond(from, m, 416, "Unsupported URI Scheme", new_tag());
    return;
  }
  if (auth_) {
    const auto verdict = auth_->verify(m.header("Authorization").value_or(""), "INVITE", now / 1000000);
    if (verdict != DigestAuth::Verdict::kOk) {
      if (verdict == DigestAuth::Verdict::kWrong || verdict == DigestAuth::Verdict::kMalformed)
        ++counters_.auth_failures;
      return challenge(now, from, m, raw, verdict == DigestAuth::Verdict::kStale);
    }
  }
  if (live_ >= config_.max_calls) {
    ++counters_.refused_busy;
    respond(from, m, 503, "Service Unavailable", new_tag(), {{"Retry-After", "30"}});
    return;
  }
  uint32_t session_expires = 0;
  if (auto se = m.header("Session-Expires")) {
    std::string_view v = *se;
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ')
      v.remove_suffix(1);
    if (!media::parse_number(v, session_expires)) session_expires = 0;
    if (session_expires != 0 && session_expires < config_.min_session_expires) {
      respond(from, m, 422, "Session Interval Too Small", new_tag(),
              {{"Min-SE", std::to_string(config_.min_session_expires)}});
      return;
    }
  }
  Call c;
  c.handle = next_handle_++;
  c.peer = from;
  c.call_id = std::string(m.call_id());
  c.local_tag = new_tag();
  c.remote_from = std::string(m.header("From").value_or(""));
  c.local_to = std::string(m.header("To").value_or("")) + ";tag=" + c.local_tag;
  const std::string_view contact_field = m.header("Contact").value_or("");
  c.remote_target = std::string(addr_spec(contact_field));
  if (c.remote_target.empty()) c.remote_target = std::string(addr_spec(c.remote_from));
  c.invite = std::string(raw);
  c.invite_branch = std::string(m.via_branch());
  c.invite_cseq = cseq;
  c.session_expires = session_expires;
  auto& stored = calls_.emplace(c.handle, std::move(c)).first->second;
  ++live_;
  ++counters_.calls_started;
  respond_invite(stored, 100, "Trying");

  IncomingCall in;
  in.call = stored.handle;
  in.room = std::string(uri->user);
  const std::string_view from_field = m.header("From").value_or("");
  in.caller_uri = std::string(addr_spec(from_field));
  in.caller_name = std::string(display_name(from_field));
  if (in.caller_name.empty()) {
    if (auto fu = parse_sip_uri(in.caller_uri)) in.caller_name = std::string(fu->user);
  }
  in.offer = std::string(m.body());
  in.source = from;
  emit(std::move(in));
}

void SipUserAgent::challenge(media::Micros now, const SipAddress& from, const SipMessage& m,
                             std::string_view raw, bool stale) {
  ++counters_.auth_challenges;
  Call c;
  c.handle = next_handle_++;
  c.live = false;
  c.peer = from;
  c.call_id = std::string(m.call_id());
  c.local_tag = new_tag();
  c.invite = std::string(raw);
  c.invite_branch = std::string(m.via_branch());
  c.invite_cseq = *m.cseq_number();
  auto& stored = calls_.emplace(c.handle, std::move(c)).first->second;
  respond_invite(stored, 401, "Unauthorized", {},
                 {{"WWW-Authenticate", auth_->challenge(now / 1000000, stale)}});
  stored.state = State::kRejected;
  stored.linger_until = now + 64 * config_.t1;
  start_retransmit(now, stored);
}

void SipUserAgent::on_reinvite(media::Micros now, Call& c, const SipAddress& from, const SipMessage& m,
                               std::string_view raw) {
  if (c.reoffer_pending || c.state == State::kAnswered) {
    respond(from, m, 491, "Request Pending");  // RFC 3261 §14.2
    return;
  }
  c.peer = from;
  c.invite = std::string(raw);
  c.invite_branch = std::string(m.via_branch());
  c.invite_cseq = *m.cseq_number();
  c.reoffer_pending = true;
  respond_invite(c, 100, "Trying");
  if (c.session_expires)
    c.session_expires_at = now + static_cast<media::Micros>(c.session_expires) * 1000000;  // a refresh
  emit(CallReoffer{c.handle, std::string(m.body())});
}

void SipUserAgent::on_cancel(media::Micros now, const SipAddress& from, const SipMessage& m) {
  for (auto& [h, c] : calls_) {
    if (c.call_id != m.call_id() || c.invite_cseq != *m.cseq_number() || c.invite_branch != m.via_branch())
      continue;
    if (c.state != State::kEarly || !c.live) break;
    respond(from, m, 200, "OK", c.local_tag);
    respond_invite(c, 487, "Request Terminated");
    end(now, c, "cancelled by the caller", true);
    c.state = State::kRejected;  // keep resending the 487 until its ACK
    start_retransmit(now, c);
    return;
  }
  ++counters_.unknown_dialog;
  respond(from, m, 481, "Call/Transaction Does Not Exist");
}

void SipUserAgent::on_bye(media::Micros now, const SipAddress& from, const SipMessage& m) {
  Call* c = m.to_tag().empty() ? nullptr : find_dialog(m);
  if (!c || c->state == State::kEarly || c->state == State::kRejected) {
    ++counters_.unknown_dialog;
    respond(from, m, 481, "Call/Transaction Does Not Exist");
    return;
  }
  respond(from, m, 200, "OK");
  if (c->live) end(now, *c, "the caller hung up", true);
}

void SipUserAgent::on_ack(media::Micros now, const SipMessage& m) {
  Call* c = find_dialog(m);
  if (!c || m.to_tag().empty()) {
    ++counters_.stray_acks;
    return;
  }
  if (c->state == State::kAnswered) {
    c->state = State::kConfirmed;
    c->retransmit_at = 0;
  } else if (c->state == State::kRejected) {
    c->state = State::kEnded;
    c->retransmit_at = 0;
    c->linger_until = std::min(c->linger_until, now + 5 * config_.t1);  // Timer I (T4 = 5 s over UDP)
  } else if (c->state != State::kConfirmed && c->state != State::kEnded && c->state != State::kByeSent) {
    ++counters_.stray_acks;
  }
}

void SipUserAgent::on_response(media::Micros now, const SipMessage& m) {
  if (m.cseq_method() != "BYE") return;
  for (auto& [h, c] : calls_) {
    if (c.call_id != m.call_id() || c.state != State::kByeSent) continue;
    if (m.status() < 200) return;
    c.state = State::kEnded;
    c.retransmit_at = 0;
    c.linger_until = std::min(c.linger_until, now + 5 * config_.t1);
    return;
  }
}

void SipUserAgent::ring(CallHandle call) {
  Call* c = find_by_handle(call);
  if (c && c->live && c->state == State::kEarly) respond_invite(*c, 180, "Ringing");
}

void SipUserAgent::start_retransmit(media::Micros now, Call& c) {
  c.interval = config_.t1;
  c.retransmit_at = now + c.interval;
  c.give_up_at = now + 64 * config_.t1;
}

void SipUserAgent::accept(media::Micros now, CallHandle call, const std::string& answer_sdp) {
  Call* c = find_by_handle(call);
  if (!c || !c->live || c->state != State::kEarly) return;
  respond_invite(*c, 200, "OK", answer_sdp);
  c->state = State::kAnswered;
  start_retransmit(now, *c);
  if (c->session_expires)
    c->session_expires_at = now + static_cast<media::Micros>(c->session_expires) * 1000000;
  ++counters_.calls_answered;
}

void SipUserAgent::reject(media::Micros now, CallHandle call, int status, std::string_view reason) {
  Call* c = find_by_handle(call);
  if (!c || !c->live || c->state != State::kEarly) return;
  respond_invite(*c, status, reason);
  end(now, *c, std::string(reason), false);
  c->state = State::kRejected;
  start_retransmit(now, *c);
}

void SipUserAgent::accept_reoffer(media::Micros now, CallHandle call, const std::string& answer_sdp) {
  Call* c = find_by_handle(call);
  if (!c || !c->live || !c->reoffer_pending) return;
  c->reoffer_pending = false;
  respond_invite(*c, 200, "OK", answer_sdp);
  c->state = State::kAnswered;
  start_retransmit(now, *c);
}

void SipUserAgent::reject_reoffer(media::Micros now, CallHandle call, int status, std::string_view reason) {
  Call* c = find_by_handle(call);
  if (!c || !c->live || !c->reoffer_pending) return;
  c->reoffer_pending = false;
  // A failed re-INVITE leaves the session as it was (§14.2); its non-2xx is ACKed like any.
  respond_invite(*c, status, reason);
  (void)now;
}

void SipUserAgent::hangup(media::Micros now, CallHandle call) {
  Call* c = find_by_handle(call);
  if (!c || !c->live) return;
  if (c->state == State::kEarly) {
    reject(now, call, 480, "Temporarily Unavailable");
    return;
  }
  end(now, *c, "hung up", false);
  send_bye(now, *c);
}

void SipUserAgent::send_bye(media::Micros now, Call& c) {
  RequestParts p;
  p.method = "BYE";
  p.request_uri = c.remote_target;
  p.via_host = config_.host;
  p.via_port = config_.port;
  const std::string branch = "z9hG4bK" + hex(splitmix(rng_));
  p.branch = branch;
  p.from = c.local_to;
  p.to = c.remote_from;
  p.call_id = c.call_id;
  p.cseq = ++c.local_cseq;
  c.bye = write_request(p);
  send(c.peer, c.bye);
  c.state = State::kByeSent;
  start_retransmit(now, c);
}

void SipUserAgent::end(media::Micros now, Call& c, std::string reason, bool tell) {
  if (c.live) {
    c.live = false;
    --live_;
    ++counters_.calls_ended;
    if (tell) emit(CallEnded{c.handle, std::move(reason)});
  }
  c.state = State::kEnded;
  c.retransmit_at = 0;
  c.session_expires_at = 0;
  c.linger_until = now + 64 * config_.t1;
}

void SipUserAgent::tick(media::Micros now) {
  for (auto& [h, c] : calls_) {
    if (c.session_expires_at && now >= c.session_expires_at && c.live && c.state == State::kConfirmed) {
      ++counters_.session_expiries;
      end(now, c, "session expired: no refresh within " + std::to_string(c.session_expires) + " s", true);
      send_bye(now, c);
      continue;
    }
    if (!c.retransmit_at) continue;
    if (now < c.give_up_at && now < c.retransmit_at) continue;
    if (now >= c.give_up_at) {
      c.retransmit_at = 0;
      if (c.state == State::kAnswered) {  // no ACK for our 200 (§13.3.1.4): end the session
        ++counters_.ack_timeouts;
        end(now, c, "no ACK for the 200 OK within 64*T1", true);
        send_bye(now, c);
      } else {
        c.state = State::kEnded;  // Timer H (no ACK for a rejection) or F (no answer to our BYE)
        c.linger_until = std::min(c.linger_until ? c.linger_until : now, now);
      }
      continue;
    }
    ++counters_.retransmissions_out;
    if (c.state == State::kByeSent) {
      send(c.peer, c.bye);
    } else {
      send(c.peer, c.last_response);
    }
    c.interval = std::min(c.interval * 2, 8 * config_.t1);  // T2 = 4 s
    c.retransmit_at = now + c.interval;
  }
  reap(now);
}

void SipUserAgent::reap(media::Micros now) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    const Call& c = it->second;
    if (!c.live && c.state == State::kEnded && now >= c.linger_until) {
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  while (calls_.size() - live_ > kMaxLingering) {  // the oldest ended dialog goes first
    for (auto it = calls_.begin(); it != calls_.end(); ++it) {
      if (!it->second.live) {
        calls_.erase(it);
        break;
      }
    }
  }
}

}  // namespace atrium::sip
