// The simulator end to end: a Simulator on an io_context thread (127.0.0.1, port 0), spoken to
// with a blocking TCP socket for SMPP and raw HTTP/1.1 requests for the control port.
#include "sim/simulator.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <future>
#include <optional>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace smppguard;
namespace cmd = proto::cmd;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A blocking loopback socket with a 5 s receive timeout, so a missing answer fails the test
// instead of hanging it.
class Socket {
 public:
  explicit Socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  void write(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void write(const Bytes& b) {
    write(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  // Exactly n octets, or nullopt on timeout/EOF.
  std::optional<std::string> read_exact(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const auto r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) return std::nullopt;
      got += static_cast<std::size_t>(r);
    }
    return out;
  }
  std::string read_all() {
    std::string out;
    char buf[4096];
    while (true) {
      const auto r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) return out;
      out.append(buf, static_cast<std::size_t>(r));
    }
  }
  // One whole PDU frame.
  std::optional<Bytes> read_pdu() {
    auto head = read_exact(16);
    if (!head) return std::nullopt;
    const auto* h = reinterpret_cast<const std::uint8_t*>(head->data());
    const std::uint32_t len =
        std::uint32_t(h[0]) << 24 | std::uint32_t(h[1]) << 16 | std::uint32_t(h[2]) << 8 | h[3];
    Bytes frame(head->begin(), head->end());
    if (len > 16) {
      auto rest = read_exact(len - 16);
      if (!rest) return std::nullopt;
      frame.insert(frame.end(), rest->begin(), rest->end());
    }
    return frame;
  }
  std::optional<proto::Pdu> read_decoded() {
    auto frame = read_pdu();
    if (!frame) return std::nullopt;
    auto pdu = proto::decode(*frame);
    if (!pdu) return std::nullopt;
    return std::move(*pdu);
  }

 private:
  int fd_;
  bool connected_ = false;
};

Bytes wire(const proto::Pdu& pdu) { return *proto::encode(pdu); }

struct HttpResult {
  int status = 0;
  std::string body;
};

HttpResult http(unsigned short port, std::string_view method, std::string_view path,
                std::string_view body = "") {
  Socket s(port);
  std::string req = std::string(method) + " " + std::string(path) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n";
  req += body;
  s.write(req);
  const std::string reply = s.read_all();
  HttpResult r;
  if (reply.size() > 12) r.status = std::stoi(reply.substr(9, 3));
  const auto split = reply.find("\r\n\r\n");
  if (split != std::string::npos) r.body = reply.substr(split + 4);
  return r;
}

// A Simulator running on its own io_context thread for the duration of a test.
class Running {
 public:
  explicit Running(sim::SimulatorOptions options) {
    options.smpp = {"127.0.0.1", 0};
    options.http = {"127.0.0.1", 0};
    sim_.emplace(io_, std::move(options));
    sim_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Running() {
    std::promise<void> stopped;
    sim_->stop([&stopped] { stopped.set_value(); });
    stopped.get_future().wait_for(std::chrono::seconds(5));
    work_.reset();
    io_.stop();
    thread_.join();
    sim_.reset();
  }
  sim::Simulator& operator*() { return *sim_; }
  sim::Simulator* operator->() { return &*sim_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::optional<sim::Simulator> sim_;
  std::thread thread_;
};

proto::Pdu bind_pdu(std::uint32_t command_id, std::string system_id, std::string password,
                    std::uint32_t seq = 1) {
  return proto::Pdu{
      .command_id = command_id,
      .sequence_number = seq,
      .body = proto::Bind{.system_id = std::move(system_id), .password = std::move(password)}};
}

proto::Pdu submit_pdu(std::string destination, std::string text, std::uint8_t registered_delivery,
                      std::uint32_t seq) {
  proto::SubmitSm sm;
  sm.source_addr_ton = 1;
  sm.source_addr_npi = 1;
  sm.source_addr = "18005550100";
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = std::move(destination);
  sm.registered_delivery = registered_delivery;
  sm.short_message = std::move(text);
  return proto::Pdu{.command_id = cmd::kSubmitSm, .sequence_number = seq, .body = std::move(sm)};
}

bool all_digits(std::string_view s) {
  return s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

TEST_CASE("simulator: bind, submit_sm, receipt, /messages, MO, rules, query_sm, stop") {
  sim::SimulatorOptions options;
  options.receipt_delay = std::chrono::milliseconds(50);
  Running sim(options);
  REQUIRE(sim->smpp_port() != 0);
  REQUIRE(sim->http_port() != 0);

  const auto health = http(sim->http_port(), "GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(boost::json::parse(health.body).at("status").as_string() == "ok");

  Socket smpp(sim->smpp_port());
  REQUIRE(smpp.connected());
  smpp.write(wire(bind_pdu(cmd::kBindTransceiver, "smppguard", "any")));
  auto bind_resp = smpp.read_decoded();
  REQUIRE(bind_resp);
  CHECK(bind_resp->command_id == cmd::kBindTransceiverResp);
  CHECK(bind_resp->command_status == 0);
  CHECK(bind_resp->sequence_number == 1);

  const auto binds = boost::json::parse(http(sim->http_port(), "GET", "/binds").body);
  REQUIRE(binds.as_array().size() == 1);
  CHECK(binds.at(0).at("system_id").as_string() == "smppguard");
  CHECK(binds.at(0).at("bind_type").as_string() == "transceiver");

  // submit_sm with registered_delivery 1: the first id, then the receipt.
  const Bytes submit = wire(submit_pdu("15551234567", "hello world, this is long", 1, 2));
  smpp.write(submit);
  auto resp = smpp.read_decoded();
  REQUIRE(resp);
  CHECK(resp->command_id == cmd::kSubmitSmResp);
  CHECK(resp->command_status == 0);
  CHECK(resp->sequence_number == 2);
  CHECK(resp->as<proto::SubmitSmResp>()->message_id == "00000001");

  auto receipt = smpp.read_decoded();
  REQUIRE(receipt);
  REQUIRE(receipt->command_id == cmd::kDeliverSm);
  const auto& dlr = *receipt->as<proto::DeliverSm>();
  CHECK(dlr.esm_class == 0x04);
  CHECK(dlr.source_addr == "15551234567");
  CHECK(dlr.destination_addr == "18005550100");
  CHECK(dlr.data_coding == 0);
  const std::string& text = dlr.short_message;
  // id:00000001 sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD ...
  REQUIRE(text.size() == 120);
  CHECK(text.substr(0, 42) == "id:00000001 sub:001 dlvrd:001 submit date:");
  CHECK(all_digits(text.substr(42, 10)));
  CHECK(text.substr(52, 11) == " done date:");
  CHECK(all_digits(text.substr(63, 10)));
  CHECK(text.substr(73) == " stat:DELIVRD err:000 text:hello world, this is");
  CHECK(dlr.tlvs.get_cstring(proto::tlv::kReceiptedMessageId) == "00000001");
  CHECK(dlr.tlvs.get_u8(proto::tlv::kMessageState) == 2);
  smpp.write(wire(proto::Pdu{.command_id = cmd::kDeliverSmResp,
                             .sequence_number = receipt->sequence_number,
                             .body = proto::DeliverSmResp{}}));

  // What the carrier received, byte for byte.
  const auto messages = boost::json::parse(http(sim->http_port(), "GET", "/messages").body);
  REQUIRE(messages.as_array().size() == 1);
  const auto& m = messages.at(0);
  CHECK(m.at("index").to_number<int>() == 1);
  CHECK(m.at("command").as_string() == "submit_sm");
  CHECK(m.at("message_id").as_string() == "00000001");
  CHECK(m.at("text").as_string() == "hello world, this is long");
  CHECK(m.at("pdu_hex").as_string() == sim::to_hex(submit));

  // query_sm after the receipt: DELIVERED.
  smpp.write(wire(proto::Pdu{.command_id = cmd::kQuerySm,
                             .sequence_number = 3,
                             .body = proto::QuerySm{.message_id = "00000001"}}));
  auto query = smpp.read_decoded();
  REQUIRE(query);
  CHECK(query->command_id == cmd::kQuerySmResp);
  CHECK(query->as<proto::QuerySmResp>()->message_state == 2);
  smpp.write(wire(proto::Pdu{.command_id = cmd::kCancelSm,
                             .sequence_number = 4,
                             .body = proto::CancelSm{.message_id = "000000FF"}}));
  auto cancel = smpp.read_decoded();
  REQUIRE(cancel);
  CHECK(cancel->command_status == proto::status::kEsmeRinvmsgid);

  // An MO: the HTTP call waits for our deliver_sm_resp.
  auto mo = std::async(std::launch::async, [port = sim->http_port()] {
    return http(port, "POST", "/mo", R"({"from":"+15551234567","to":"12345","text":"STOP"})");
  });
  auto deliver = smpp.read_decoded();
  REQUIRE(deliver);
  REQUIRE(deliver->command_id == cmd::kDeliverSm);
  CHECK(deliver->as<proto::DeliverSm>()->source_addr == "15551234567");
  CHECK(deliver->as<proto::DeliverSm>()->dest_addr_ton == 3);
  CHECK(deliver->as<proto::DeliverSm>()->short_message == "STOP");
  smpp.write(wire(proto::Pdu{.command_id = cmd::kDeliverSmResp,
                             .command_status = proto::status::kEsmeRxTAppn,
                             .sequence_number = deliver->sequence_number,
                             .body = proto::DeliverSmResp{}}));
  const auto mo_result = mo.get();
  CHECK(mo_result.status == 200);
  CHECK(boost::json::parse(mo_result.body).at("status").to_number<int>() == 0x64);

  // A manual receipt for an unknown id, then for the known one.
  CHECK(http(sim->http_port(), "POST", "/receipt", R"({"message_id":"0000FFFF"})").status == 404);
  auto manual = std::async(std::launch::async, [port = sim->http_port()] {
    return http(port, "POST", "/receipt", R"({"message_id":"00000001","stat":"UNDELIV"})");
  });
  auto undeliv = smpp.read_decoded();
  REQUIRE(undeliv);
  CHECK(undeliv->as<proto::DeliverSm>()->tlvs.get_u8(proto::tlv::kMessageState) == 5);
  CHECK(undeliv->as<proto::DeliverSm>()->short_message.find(" stat:UNDELIV ") != std::string::npos);
  smpp.write(wire(proto::Pdu{.command_id = cmd::kDeliverSmResp,
                             .sequence_number = undeliv->sequence_number,
                             .body = proto::DeliverSmResp{}}));
  CHECK(manual.get().status == 200);

  // A failure rule: this prefix is refused with ESME_RTHROTTLED, others still pass.
  CHECK(http(sim->http_port(), "POST", "/rules",
             R"({"prefix":"+1555000","action":"status","status":88})")
            .status == 200);
  smpp.write(wire(submit_pdu("15550001234", "refused", 0, 5)));
  auto refused = smpp.read_decoded();
  REQUIRE(refused);
  CHECK(refused->command_status == 0x58);
  CHECK(refused->sequence_number == 5);
  smpp.write(wire(submit_pdu("15559990000", "passes", 0, 6)));
  auto passed = smpp.read_decoded();
  REQUIRE(passed);
  CHECK(passed->as<proto::SubmitSmResp>()->message_id == "00000002");

  const auto stats = boost::json::parse(http(sim->http_port(), "GET", "/stats").body);
  CHECK(stats.at("received").to_number<int>() == 5);
  CHECK(stats.at("answered").to_number<int>() == 5);
  CHECK(stats.at("receipts_sent").to_number<int>() == 2);
  CHECK(stats.at("mo_sent").to_number<int>() == 1);

  CHECK(http(sim->http_port(), "DELETE", "/messages").status == 200);
  CHECK(boost::json::parse(http(sim->http_port(), "GET", "/messages").body).as_array().empty());
  CHECK(http(sim->http_port(), "GET", "/nowhere").status == 404);

  // Stopping unbinds us.
  std::promise<void> stopped;
  sim->stop([&stopped] { stopped.set_value(); });
  auto unbind = smpp.read_decoded();
  REQUIRE(unbind);
  CHECK(unbind->command_id == cmd::kUnbind);
  smpp.write(
      wire(proto::Pdu{.command_id = cmd::kUnbindResp, .sequence_number = unbind->sequence_number}));
  CHECK(stopped.get_future().wait_for(std::chrono::seconds(3)) == std::future_status::ready);
}

TEST_CASE(
    "simulator: credentials, decimal ids, receipt ids, no_bind, delay, submit_multi, pdu_hex, "
    "drop") {
  sim::SimulatorOptions options;
  options.system_id = "smppguard";
  options.password = "sim";
  options.id_format = sim::IdFormat::decimal;
  options.receipt_id_format = sim::ReceiptIdFormat::decimal;
  options.receipt_delay = std::chrono::milliseconds(0);
  Running sim(options);

  {
    Socket wrong(sim->smpp_port());
    wrong.write(wire(bind_pdu(cmd::kBindTransmitter, "smppguard", "nope")));
    auto r = wrong.read_decoded();
    REQUIRE(r);
    CHECK(r->command_status == proto::status::kEsmeRinvpaswd);
  }
  {
    Socket unknown(sim->smpp_port());
    unknown.write(wire(bind_pdu(cmd::kBindTransmitter, "other", "sim")));
    auto r = unknown.read_decoded();
    REQUIRE(r);
    CHECK(r->command_status == proto::status::kEsmeRinvsysid);
  }
  CHECK(http(sim->http_port(), "POST", "/mo", R"({"from":"+15551234567","to":"12345","text":"x"})")
            .status == 503);

  Socket smpp(sim->smpp_port());
  smpp.write(wire(bind_pdu(cmd::kBindTransceiver, "smppguard", "sim")));
  auto bound = smpp.read_decoded();
  REQUIRE(bound);
  REQUIRE(bound->command_status == 0);
  smpp.write(wire(submit_pdu("15551234567", "hi", 1, 2)));
  auto resp = smpp.read_decoded();
  REQUIRE(resp);
  CHECK(resp->as<proto::SubmitSmResp>()->message_id == "1");
  auto receipt = smpp.read_decoded();
  REQUIRE(receipt);
  const auto& dlr = *receipt->as<proto::DeliverSm>();
  CHECK(dlr.short_message.starts_with("id:0000000001 sub:001"));
  CHECK(dlr.tlvs.get_cstring(proto::tlv::kReceiptedMessageId) == "1");
  smpp.write(wire(proto::Pdu{.command_id = cmd::kDeliverSmResp,
                             .sequence_number = receipt->sequence_number,
                             .body = proto::DeliverSmResp{}}));

  // delay: the answer comes after delay_ms.
  REQUIRE(http(sim->http_port(), "POST", "/rules",
               R"({"prefix":"+33","action":"delay","delay_ms":200})")
              .status == 200);
  const auto sent_at = std::chrono::steady_clock::now();
  smpp.write(wire(submit_pdu("33600000000", "slow", 0, 3)));
  auto slow = smpp.read_decoded();
  REQUIRE(slow);
  CHECK(slow->as<proto::SubmitSmResp>()->message_id == "2");
  CHECK(std::chrono::steady_clock::now() - sent_at >= std::chrono::milliseconds(150));

  // submit_multi: a status rule refuses only its destinations.
  REQUIRE(http(sim->http_port(), "POST", "/rules",
               R"({"prefix":"+1555000","action":"status","status":11})")
              .status == 200);
  proto::SubmitMulti multi;
  multi.source_addr = "12345";
  multi.dest_addresses = {
      {.dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = "15550001111"},
      {.dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = "15559990000"}};
  multi.short_message = "to two";
  smpp.write(
      wire(proto::Pdu{.command_id = cmd::kSubmitMulti, .sequence_number = 4, .body = multi}));
  auto multi_resp = smpp.read_decoded();
  REQUIRE(multi_resp);
  CHECK(multi_resp->command_status == 0);
  const auto& mr = *multi_resp->as<proto::SubmitMultiResp>();
  CHECK(mr.message_id == "3");
  REQUIRE(mr.unsuccess_smes.size() == 1);
  CHECK(mr.unsuccess_smes[0].destination_addr == "15550001111");
  CHECK(mr.unsuccess_smes[0].error_status_code == 11);

  // pdu_hex: exactly these octets, with a fresh sequence number.
  auto raw = std::async(std::launch::async, [port = sim->http_port()] {
    return http(port, "POST", "/mo", R"({"pdu_hex":"00000010000000150000000000000000"})");
  });
  auto enquire = smpp.read_pdu();
  REQUIRE(enquire);
  REQUIRE(enquire->size() == 16);
  CHECK(sim::to_hex(Bytes(enquire->begin(), enquire->begin() + 12)) == "000000100000001500000000");
  const auto seq = proto::peek_header(*enquire)->sequence_number;
  CHECK(seq != 0);
  smpp.write(wire(proto::Pdu{.command_id = cmd::kEnquireLinkResp, .sequence_number = seq}));
  const auto raw_result = raw.get();
  CHECK(raw_result.status == 200);
  CHECK(boost::json::parse(raw_result.body).at("responses").at(0).as_string() ==
        "enquire_link_resp");

  // drop: the connection closes without an answer.
  REQUIRE(http(sim->http_port(), "POST", "/rules", R"({"prefix":"+44","action":"drop"})").status ==
          200);
  smpp.write(wire(submit_pdu("447700900000", "bye", 0, 5)));
  CHECK_FALSE(smpp.read_pdu());
  const auto messages = boost::json::parse(http(sim->http_port(), "GET", "/messages").body);
  REQUIRE(messages.as_array().size() == 4);
  CHECK(messages.at(2).at("destinations").at(1).as_string() == "15559990000");
  CHECK(messages.at(3).at("destination_addr").as_string() == "447700900000");
  CHECK(messages.at(3).at("message_id").as_string() == "");
}
