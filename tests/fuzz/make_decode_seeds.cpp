// Writes the seed corpus of fuzz_decode: one valid PDU per SMPP v3.4 PDU type (and a few
// variants: TLVs, error responses), each file named after its command.
//   make_decode_seeds tests/fuzz/corpus/decode
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "smppguard/proto/encode.hpp"

using namespace smppguard::proto;

namespace {

bool write(const std::string& dir, const std::string& name, const Pdu& pdu) {
  auto wire = encode(pdu);
  if (!wire) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), wire.error().error_code().message().c_str());
    return false;
  }
  std::ofstream out(dir + "/" + name + ".bin", std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(wire->data()),
            static_cast<std::streamsize>(wire->size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 64;
  }
  const std::string dir = argv[1];
  bool ok = true;
  auto add = [&](const std::string& name, const Pdu& pdu) { ok = write(dir, name, pdu) && ok; };

  const Bind bind{"esme01", "secret08", "SUBMIT1", kInterfaceVersion34, 1, 1, ""};
  add("bind_transmitter", Pdu{cmd::kBindTransmitter, 0, 1, bind});
  add("bind_receiver", Pdu{cmd::kBindReceiver, 0, 1, bind});
  add("bind_transceiver", Pdu{cmd::kBindTransceiver, 0, 1, bind});
  BindResp bind_resp{"smppguard", {}};
  bind_resp.tlvs.set_u8(tlv::kScInterfaceVersion, 0x34);
  add("bind_transmitter_resp", Pdu{cmd::kBindTransmitterResp, 0, 1, bind_resp});
  add("bind_receiver_resp", Pdu{cmd::kBindReceiverResp, 0, 1, bind_resp});
  add("bind_transceiver_resp", Pdu{cmd::kBindTransceiverResp, 0, 1, bind_resp});
  add("bind_transceiver_resp_error",
      Pdu{cmd::kBindTransceiverResp, status::kEsmeRinvpaswd, 1, Empty{}});
  add("outbind", Pdu{cmd::kOutbind, 0, 1, Outbind{"smsc", "pw"}});
  add("unbind", Pdu{cmd::kUnbind, 0, 2, Empty{}});
  add("unbind_resp", Pdu{cmd::kUnbindResp, 0, 2, Empty{}});
  add("enquire_link", Pdu{cmd::kEnquireLink, 0, 3, Empty{}});
  add("enquire_link_resp", Pdu{cmd::kEnquireLinkResp, 0, 3, Empty{}});
  add("generic_nack", Pdu{cmd::kGenericNack, status::kEsmeRinvcmdid, 4, Empty{}});

  SubmitSm sm;
  sm.service_type = "CMT";
  sm.source_addr_ton = 3;
  sm.source_addr = "12345";
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = "15551234567";
  sm.esm_class = esm_class::kUdhi;
  sm.validity_period = "000001000000000R";
  sm.registered_delivery = 1;
  sm.short_message = std::string("\x05\x00\x03\x2A\x02\x01Hello", 11);
  sm.tlvs.set_u8(tlv::kSmppguardCategory, 1);
  add("submit_sm", Pdu{cmd::kSubmitSm, 0, 5, sm});
  add("submit_sm_resp", Pdu{cmd::kSubmitSmResp, 0, 5, MessageIdResp{"0A1B2C3D", {}}});
  add("submit_sm_resp_error", Pdu{cmd::kSubmitSmResp, 0x401, 5, Empty{}});

  DeliverSm dlr;
  dlr.source_addr_ton = 1;
  dlr.source_addr_npi = 1;
  dlr.source_addr = "15551234567";
  dlr.dest_addr_ton = 3;
  dlr.destination_addr = "12345";
  dlr.esm_class = esm_class::kDeliveryReceipt;
  dlr.short_message =
      "id:0A1B2C3D sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD "
      "err:000 text:Hello";
  dlr.tlvs.set_cstring(tlv::kReceiptedMessageId, "0A1B2C3D");
  dlr.tlvs.set_u8(tlv::kMessageState, 2);
  dlr.tlvs.set(tlv::kNetworkErrorCode, std::string("\x03\x00\x00", 3));
  dlr.tlvs.add(0x1501, "vendor");
  add("deliver_sm", Pdu{cmd::kDeliverSm, 0, 6, dlr});
  add("deliver_sm_resp", Pdu{cmd::kDeliverSmResp, 0, 6, MessageIdResp{}});

  SubmitMulti multi;
  multi.source_addr_ton = 3;
  multi.source_addr = "12345";
  multi.dest_addresses = {DestAddress{kDestFlagSmeAddress, 1, 1, "15550000001", ""},
                          DestAddress{kDestFlagDistributionList, 0, 0, "", "friends"}};
  multi.short_message = "Hi all";
  add("submit_multi", Pdu{cmd::kSubmitMulti, 0, 7, multi});
  add("submit_multi_resp",
      Pdu{cmd::kSubmitMultiResp, 0, 7,
          SubmitMultiResp{"m1", {UnsuccessSme{1, 1, "15550000002", 0x400}}, {}}});

  DataSm data;
  data.service_type = "WAP";
  data.source_addr_ton = 1;
  data.source_addr = "15551234567";
  data.destination_addr = "15557654321";
  data.data_coding = 8;
  data.tlvs.set(tlv::kMessagePayload, std::string("\x00S\x00T\x00O\x00P", 8));
  data.tlvs.set_u16(tlv::kSarMsgRefNum, 7);
  data.tlvs.set_u8(tlv::kSarTotalSegments, 2);
  data.tlvs.set_u8(tlv::kSarSegmentSeqnum, 1);
  add("data_sm", Pdu{cmd::kDataSm, 0, 8, data});
  MessageIdResp data_resp{"", {}};
  data_resp.tlvs.set_u8(tlv::kDeliveryFailureReason, 1);
  add("data_sm_resp", Pdu{cmd::kDataSmResp, status::kEsmeRdeliveryfailure, 8, data_resp});

  add("query_sm", Pdu{cmd::kQuerySm, 0, 9, QuerySm{"0A1B2C3D", 3, 0, "12345"}});
  add("query_sm_resp",
      Pdu{cmd::kQuerySmResp, 0, 9, QuerySmResp{"0A1B2C3D", "250101120100000+", 2, 0}});
  add("cancel_sm",
      Pdu{cmd::kCancelSm, 0, 10, CancelSm{"", "0A1B2C3D", 3, 0, "12345", 1, 1, "15551234567"}});
  add("cancel_sm_resp", Pdu{cmd::kCancelSmResp, 0, 10, Empty{}});
  ReplaceSm replace;
  replace.message_id = "0A1B2C3D";
  replace.source_addr_ton = 3;
  replace.source_addr = "12345";
  replace.schedule_delivery_time = "250101120000000+";
  replace.short_message = "Updated";
  add("replace_sm", Pdu{cmd::kReplaceSm, 0, 11, replace});
  add("replace_sm_resp", Pdu{cmd::kReplaceSmResp, 0, 11, Empty{}});
  AlertNotification alert{1, 1, "15551234567", 3, 0, "12345", {}};
  alert.tlvs.set_u8(tlv::kMsAvailabilityStatus, 0);
  add("alert_notification", Pdu{cmd::kAlertNotification, 0, 12, alert});
  return ok ? 0 : 1;
}
