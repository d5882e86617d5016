#pragma once
// command_status values: every code of SMPP v3.4 (section 5.1.3) and the v5.0 additions
// (0x100-0x112). Constant names are the spec's names in kConstant form:
// ESME_RINVPASWD -> kEsmeRinvpaswd, ESME_RX_T_APPN -> kEsmeRxTAppn.
// Thread-safety: constants and pure functions only.
#include <cstdint>
#include <string_view>

namespace smppguard::proto {

namespace status {
// SMPP v3.4
inline constexpr std::uint32_t kEsmeRok = 0x00000000;               // no error
inline constexpr std::uint32_t kEsmeRinvmsglen = 0x00000001;        // message length invalid
inline constexpr std::uint32_t kEsmeRinvcmdlen = 0x00000002;        // command length invalid
inline constexpr std::uint32_t kEsmeRinvcmdid = 0x00000003;         // invalid command id
inline constexpr std::uint32_t kEsmeRinvbndsts = 0x00000004;        // wrong bind state
inline constexpr std::uint32_t kEsmeRalybnd = 0x00000005;           // already bound
inline constexpr std::uint32_t kEsmeRinvprtflg = 0x00000006;        // invalid priority_flag
inline constexpr std::uint32_t kEsmeRinvregdlvflg = 0x00000007;     // invalid registered_delivery
inline constexpr std::uint32_t kEsmeRsyserr = 0x00000008;           // system error
inline constexpr std::uint32_t kEsmeRinvsrcadr = 0x0000000A;        // invalid source address
inline constexpr std::uint32_t kEsmeRinvdstadr = 0x0000000B;        // invalid destination address
inline constexpr std::uint32_t kEsmeRinvmsgid = 0x0000000C;         // invalid message_id
inline constexpr std::uint32_t kEsmeRbindfail = 0x0000000D;         // bind failed
inline constexpr std::uint32_t kEsmeRinvpaswd = 0x0000000E;         // invalid password
inline constexpr std::uint32_t kEsmeRinvsysid = 0x0000000F;         // invalid system_id
inline constexpr std::uint32_t kEsmeRcancelfail = 0x00000011;       // cancel_sm failed
inline constexpr std::uint32_t kEsmeRreplacefail = 0x00000013;      // replace_sm failed
inline constexpr std::uint32_t kEsmeRmsgqful = 0x00000014;          // message queue full
inline constexpr std::uint32_t kEsmeRinvsertyp = 0x00000015;        // invalid service_type
inline constexpr std::uint32_t kEsmeRinvnumdests = 0x00000033;      // invalid number_of_dests
inline constexpr std::uint32_t kEsmeRinvdlname = 0x00000034;        // invalid dl_name
inline constexpr std::uint32_t kEsmeRinvdestflag = 0x00000040;      // invalid dest_flag
inline constexpr std::uint32_t kEsmeRinvsubrep = 0x00000042;        // invalid submit with replace
inline constexpr std::uint32_t kEsmeRinvesmclass = 0x00000043;      // invalid esm_class
inline constexpr std::uint32_t kEsmeRcntsubdl = 0x00000044;         // cannot submit to DL
inline constexpr std::uint32_t kEsmeRsubmitfail = 0x00000045;       // submit failed
inline constexpr std::uint32_t kEsmeRinvsrcton = 0x00000048;        // invalid source TON
inline constexpr std::uint32_t kEsmeRinvsrcnpi = 0x00000049;        // invalid source NPI
inline constexpr std::uint32_t kEsmeRinvdstton = 0x00000050;        // invalid destination TON
inline constexpr std::uint32_t kEsmeRinvdstnpi = 0x00000051;        // invalid destination NPI
inline constexpr std::uint32_t kEsmeRinvsystyp = 0x00000053;        // invalid system_type
inline constexpr std::uint32_t kEsmeRinvrepflag = 0x00000054;       // invalid replace_if_present
inline constexpr std::uint32_t kEsmeRinvnummsgs = 0x00000055;       // invalid number of messages
inline constexpr std::uint32_t kEsmeRthrottled = 0x00000058;        // throttled
inline constexpr std::uint32_t kEsmeRinvsched = 0x00000061;         // invalid scheduled time
inline constexpr std::uint32_t kEsmeRinvexpiry = 0x00000062;        // invalid validity period
inline constexpr std::uint32_t kEsmeRinvdftmsgid = 0x00000063;      // invalid predefined message
inline constexpr std::uint32_t kEsmeRxTAppn = 0x00000064;           // ESME receiver temporary error
inline constexpr std::uint32_t kEsmeRxPAppn = 0x00000065;           // ESME receiver permanent error
inline constexpr std::uint32_t kEsmeRxRAppn = 0x00000066;           // ESME receiver reject
inline constexpr std::uint32_t kEsmeRqueryfail = 0x00000067;        // query_sm failed
inline constexpr std::uint32_t kEsmeRinvoptparstream = 0x000000C0;  // error in the TLV part
inline constexpr std::uint32_t kEsmeRoptparnotallwd = 0x000000C1;   // TLV not allowed
inline constexpr std::uint32_t kEsmeRinvparlen = 0x000000C2;        // invalid TLV length
inline constexpr std::uint32_t kEsmeRmissingoptparam = 0x000000C3;  // expected TLV missing
inline constexpr std::uint32_t kEsmeRinvoptparamval = 0x000000C4;   // invalid TLV value
inline constexpr std::uint32_t kEsmeRdeliveryfailure = 0x000000FE;  // delivery failure (data_sm)
inline constexpr std::uint32_t kEsmeRunknownerr = 0x000000FF;       // unknown error
// SMPP v5.0 additions
inline constexpr std::uint32_t kEsmeRsertypunauth = 0x00000100;
inline constexpr std::uint32_t kEsmeRprohibited = 0x00000101;
inline constexpr std::uint32_t kEsmeRsertypunavail = 0x00000102;
inline constexpr std::uint32_t kEsmeRsertypdenied = 0x00000103;
inline constexpr std::uint32_t kEsmeRinvdcs = 0x00000104;
inline constexpr std::uint32_t kEsmeRinvsrcaddrsubunit = 0x00000105;
inline constexpr std::uint32_t kEsmeRinvdstaddrsubunit = 0x00000106;
inline constexpr std::uint32_t kEsmeRinvbcastfreqint = 0x00000107;
inline constexpr std::uint32_t kEsmeRinvbcastaliasName = 0x00000108;
inline constexpr std::uint32_t kEsmeRinvbcastareafmt = 0x00000109;
inline constexpr std::uint32_t kEsmeRinvnumbcastAreas = 0x0000010A;
inline constexpr std::uint32_t kEsmeRinvbcastcnttype = 0x0000010B;
inline constexpr std::uint32_t kEsmeRinvbcastmsgclass = 0x0000010C;
inline constexpr std::uint32_t kEsmeRbcastfail = 0x0000010D;
inline constexpr std::uint32_t kEsmeRbcastqueryfail = 0x0000010E;
inline constexpr std::uint32_t kEsmeRbcastcancelfail = 0x0000010F;
inline constexpr std::uint32_t kEsmeRinvbcastRep = 0x00000110;
inline constexpr std::uint32_t kEsmeRinvbcastsrvgrp = 0x00000111;
inline constexpr std::uint32_t kEsmeRinvbcastchanind = 0x00000112;

// 0x400-0x4FF: reserved for SMSC vendor specific errors (smppguard's own refusals live here).
inline constexpr std::uint32_t kVendorFirst = 0x00000400;
inline constexpr std::uint32_t kVendorLast = 0x000004FF;
}  // namespace status

// The spec's name ("ESME_RINVPASWD"); "vendor" for 0x400-0x4FF; "unknown" for anything else.
std::string_view status_name(std::uint32_t command_status) noexcept;

constexpr bool is_vendor_status(std::uint32_t command_status) noexcept {
  return command_status >= status::kVendorFirst && command_status <= status::kVendorLast;
}

// A status that asks the sender to try again later (system error, queue full, throttled, receiver
// temporary error) rather than giving up on the message.
constexpr bool is_temporary_status(std::uint32_t command_status) noexcept {
  return command_status == status::kEsmeRsyserr || command_status == status::kEsmeRmsgqful ||
         command_status == status::kEsmeRthrottled || command_status == status::kEsmeRxTAppn;
}

}  // namespace smppguard::proto
