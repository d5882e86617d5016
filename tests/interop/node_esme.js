#!/usr/bin/env node
'use strict';
// Interop scenario 1: node-smpp (npm `smpp`) as an independent ESME, through the real proxy, to
// the carrier simulator (`smppguard smsc-sim`).
//
//   node node_esme.js --proxy-port P --sim-http-port H [--system-id app1 --password pw1]
//                     [--program-number 18005550100 --subscriber 15551234567]
// (each option may also come from INTEROP_PROXY_PORT, INTEROP_SIM_HTTP_PORT, ...)
//
// Prints one line per check; exits 0 only when all passed. Started by interop_test.cpp (suite
// node_esme), which runs the daemon and the simulator on free ports.
const u = require('./interop_util');
const {smpp, check, checkEq, section} = u;

const proxyPort = Number(u.arg('proxy-port'));
const simHttp = Number(u.arg('sim-http-port'));
const systemId = u.arg('system-id', 'app1');
const password = u.arg('password', 'pw1');
const program = u.arg('program-number', '18005550100');   // +18005550100, program acme-alerts
const subscriber = u.arg('subscriber', '15551234567');     // E.164 digits without '+'

u.captureRawFrames();
// A vendor TLV node-smpp does not know, to see that unknown TLVs pass untouched.
smpp.addTLV('interop_vendor', {id: 0x1501, type: smpp.types.tlv.buffer});

const T = 10000;

async function simMessages(command) {
  const r = await u.httpJson(simHttp, 'GET', '/messages');
  if (r.status !== 200) throw new Error('GET /messages -> ' + r.status + ' ' + r.text);
  return r.json.filter((m) => !command || m.command === command);
}

function isReceipt(p) {
  return p.command === 'deliver_sm' && (p.esm_class & 0x3c) === 0x04;
}

async function main() {
  section('bind_transceiver');
  const session = await u.connect(proxyPort);
  const inbox = new u.Inbox(session, 'the node ESME');
  const bind = await u.request(session, 'bind_transceiver', {system_id: systemId, password}, T);
  checkEq(bind.command_status, 0, 'bind_transceiver_resp command_status');
  check(bind.system_id && bind.system_id.length > 0, 'bind_transceiver_resp carries a system_id',
        'got ' + JSON.stringify(bind.system_id));
  // node-smpp binds with interface_version 0x50 (its default); the proxy accepts it and answers
  // with sc_interface_version 0x34.
  checkEq(bind._request.interface_version, 0x50, 'node-smpp sent interface_version');
  checkEq(bind.sc_interface_version, 0x34, 'bind_transceiver_resp sc_interface_version');

  section('an MT before consent is refused');
  const refused = await u.request(session, 'submit_sm', {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: program,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
    data_coding: 0, short_message: 'before consent',
  }, T);
  checkEq(u.hex8(refused.command_status), '0x00000401', 'submit_sm_resp command_status (no_consent)');
  console.log('# the refusal as node-smpp read it: ' + refused._raw.toString('hex'));
  const before = await simMessages('submit_sm');
  checkEq(before.filter((m) => m.text === 'before consent').length, 0,
          'the refused MT never reached the simulator');

  section('START from the subscriber (simulator MO)');
  const mo = await u.httpJson(simHttp, 'POST', '/mo', {from: '+' + subscriber, to: '+' + program, text: 'START'});
  checkEq(mo.status, 200, 'POST /mo START answered');
  checkEq(mo.json && mo.json.status, 0, 'the proxy answered the START deliver_sm with status');
  const start = await inbox.waitFor('the START MO', T, (p) => p.command === 'deliver_sm' && !isReceipt(p));
  checkEq(start.source_addr, subscriber, 'MO source_addr');
  checkEq(start.source_addr_ton, 1, 'MO source_addr_ton');
  checkEq(start.destination_addr, program, 'MO destination_addr');
  checkEq(u.smText(start.short_message), 'START', 'MO text');
  const confirm = await u.waitFor('the opt-in confirmation at the simulator', T, async () =>
    (await simMessages('submit_sm')).find((m) => m.destination_addr === subscriber && /subscribed/.test(m.text)));
  checkEq(confirm.source_addr, program, 'opt_in_confirm source_addr (the number texted)');
  checkEq(confirm.source_addr_ton, 1, 'opt_in_confirm source_addr_ton (E.164)');
  checkEq(confirm.source_addr_npi, 1, 'opt_in_confirm source_addr_npi (E.164)');
  checkEq(confirm.dest_addr_ton, 1, 'opt_in_confirm dest_addr_ton');
  checkEq(confirm.dest_addr_npi, 1, 'opt_in_confirm dest_addr_npi');

  section('submit_sm with registered_delivery, a receipt with the proxy id');
  const text = 'Your code is 4711';
  const resp = await u.request(session, 'submit_sm', {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: program,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
    registered_delivery: 1, data_coding: 0, short_message: text,
    user_message_reference: 4242, interop_vendor: Buffer.from('cafe01', 'hex'),
  }, T);
  checkEq(resp.command_status, 0, 'submit_sm_resp command_status');
  const proxyId = resp.message_id;
  check(proxyId && proxyId.length > 0, 'submit_sm_resp carries a message id (' + proxyId + ')');
  const atSim = (await simMessages('submit_sm')).find((m) => m.text === text);
  check(atSim, 'the MT reached the simulator');
  if (atSim) {
    check(atSim.message_id && atSim.message_id !== proxyId,
          'the ESME got the proxy id, not the simulator id (' + atSim.message_id + ')');
    checkEq(atSim.pdu_hex.slice(32), resp._request._raw.slice(16).toString('hex'),
            'the MT body at the simulator (octets after the header) equals what node-smpp sent');
    const tags = atSim.tlvs.map((t) => t.tag + '=' + t.value_hex).join(',');
    checkEq(tags, '516=' + (4242).toString(16).padStart(4, '0') + ',5377=cafe01',
            'TLVs at the simulator (user_message_reference, vendor 0x1501)');
  }
  const receipt = await inbox.waitFor('the receipt', T, (p) => isReceipt(p) && p.receipted_message_id === proxyId);
  check(/^id:(\S+) /.test(u.smText(receipt.short_message)) &&
        u.smText(receipt.short_message).split(' ')[0] === 'id:' + proxyId,
        'receipt text starts with id:' + proxyId, 'got ' + JSON.stringify(u.smText(receipt.short_message)));
  check(/stat:DELIVRD/.test(u.smText(receipt.short_message)), 'receipt stat:DELIVRD');
  checkEq(receipt.message_state, 2, 'receipt message_state TLV (DELIVERED)');
  checkEq(receipt.source_addr, subscriber, 'receipt source_addr');

  section('an MO from the simulator (UCS2) reaches the ESME');
  const moText = 'Привет, спасибо! 👍';
  const mo2 = await u.httpJson(simHttp, 'POST', '/mo', {from: '+' + subscriber, to: '+' + program, text: moText});
  checkEq(mo2.status, 200, 'POST /mo answered');
  const got = await inbox.waitFor('the UCS2 MO', T, (p) => p.command === 'deliver_sm' && !isReceipt(p) &&
                                  p.data_coding === 8);
  checkEq(u.smText(got.short_message), moText, 'MO text decoded by node-smpp');
  checkEq(got.destination_addr, program, 'MO destination_addr');

  section('a long UCS2 message in parts with UDH');
  const long = u.longUcs2Text();
  const pieces = u.splitUtf16(long, 67);     // 134 octets + 6 octets of UDH = 140
  const ref = 0xa7;
  const partIds = [];
  const sentParts = [];
  for (let i = 0; i < pieces.length; ++i) {
    // node-smpp's {udh, message} form: it encodes the text as UTF-16BE (data_coding 8) and sets
    // the UDHI bit of esm_class itself.
    const r = await u.request(session, 'submit_sm', {
      source_addr_ton: 1, source_addr_npi: 1, source_addr: program,
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
      registered_delivery: 1, data_coding: 8,
      short_message: {udh: Buffer.from([0x05, 0x00, 0x03, ref, pieces.length, i + 1]), message: pieces[i]},
    }, T);
    checkEq(r.command_status, 0, 'part ' + (i + 1) + '/' + pieces.length + ' submit_sm_resp status');
    partIds.push(r.message_id);
    sentParts.push(r._request);
  }
  check(new Set(partIds).size === pieces.length && partIds.every((x) => x),
        'every part got its own proxy id (' + partIds.join(' ') + ')');
  const udhHex = '050003' + ref.toString(16);
  const parts = (await simMessages('submit_sm')).filter((m) => m.short_message_hex.startsWith(udhHex));
  checkEq(parts.length, pieces.length, 'parts at the simulator');
  let payload = Buffer.alloc(0);
  parts.forEach((m, i) => {
    const sm = Buffer.from(m.short_message_hex, 'hex');
    checkEq(m.data_coding, 8, 'part ' + (i + 1) + ' data_coding');
    check((m.esm_class & 0x40) === 0x40, 'part ' + (i + 1) + ' esm_class has UDHI');
    checkEq(sm.slice(0, 6).toString('hex'), udhHex + '0' + pieces.length + '0' + (i + 1), 'part ' + (i + 1) + ' UDH');
    checkEq(m.pdu_hex.slice(32), sentParts[i]._raw.slice(16).toString('hex'),
            'part ' + (i + 1) + ' body equals what node-smpp sent');
    payload = Buffer.concat([payload, sm.slice(6)]);
  });
  checkEq(u.fromUtf16be(payload), long, 'the reassembled text at the simulator (' + [...long].length + ' characters)');
  for (const id of partIds) {
    await inbox.waitFor('the receipt of part ' + id, T, (p) => isReceipt(p) && p.receipted_message_id === id);
  }
  check(true, 'a receipt arrived for every part, each under its part\'s proxy id');

  section('enquire_link and unbind');
  const el = await u.request(session, 'enquire_link', {}, T);
  checkEq(el.command, 'enquire_link_resp', 'enquire_link answered with');
  checkEq(el.command_status, 0, 'enquire_link_resp command_status');
  const unbind = await u.request(session, 'unbind', {}, T);
  checkEq(unbind.command, 'unbind_resp', 'unbind answered with');
  checkEq(unbind.command_status, 0, 'unbind_resp command_status');
  await u.waitFor('the proxy to close the connection after unbind_resp', T, () => session.socket.destroyed ||
                  session.socket.readableEnded);
  check(true, 'the proxy closed the connection after unbind');
  const stray = inbox.pdus.filter((p) => p.command !== 'deliver_sm' && p.command !== 'enquire_link');
  checkEq(stray.map((p) => p.command).join(','), '', 'no unexpected requests from the proxy');
}

u.run('interop: node-smpp ESME -> smppguard -> smsc-sim', 150000, main);
