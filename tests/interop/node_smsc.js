#!/usr/bin/env node
'use strict';
// Interop scenario 2: node-smpp (npm `smpp`) as an independent SMSC — the carrier the proxy
// binds to — and, in the same process, node-smpp as the ESME that binds to the proxy.
//
//   node node_smsc.js --smsc-ports-file OUT.json --daemon-ports-file IN.json
//                     [--upstream-system-id smppguard --upstream-password sim]
//                     [--system-id app1 --password pw1]
//
// 1. Listens on 127.0.0.1:0 and writes {"smpp":PORT} to --smsc-ports-file; the driver then
//    starts the daemon with its upstream on PORT and --ports-file = --daemon-ports-file.
// 2. Waits for the proxy's bind, then for the daemon's ports file, binds the ESME, and checks
//    MO, opt-in confirmation, MT, receipts, error responses and long UCS2 messages both ways.
// Prints one line per check; exits 0 only when all passed.
const u = require('./interop_util');
const {smpp, check, checkEq, section} = u;

const smscPortsFile = u.arg('smsc-ports-file');
const daemonPortsFile = u.arg('daemon-ports-file');
const upSystemId = u.arg('upstream-system-id', 'smppguard');
const upPassword = u.arg('upstream-password', 'sim');
const systemId = u.arg('system-id', 'app1');
const password = u.arg('password', 'pw1');
const shortCode = u.arg('short-code', '12345');          // program acme-alerts
const tollFree = u.arg('program-number', '18005550100');  // program acme-alerts, +18005550100
const subscriber = '15551234567';
const subscriber2 = '15559876543';

u.captureRawFrames();
smpp.addTLV('interop_vendor', {id: 0x1501, type: smpp.types.tlv.buffer});

const T = 10000;

// ---- the node SMSC ----------------------------------------------------------------------------

const smsc = {
  binds: [],       // bind PDUs received
  link: null,      // {session, inbox} of the proxy's accepted bind
  submits: [],     // {pdu, id, status} for every submit_sm received
  nextId: 0x5a000,
};

// The SMSC's answers to requests from the proxy.
function answer(session, inbox, pdu) {
  if (pdu.command.startsWith('bind_')) {
    smsc.binds.push(pdu);
    if (pdu.system_id !== upSystemId) return {command_status: smpp.ESME_RINVSYSID};
    if (pdu.password !== upPassword) return {command_status: smpp.ESME_RINVPASWD};
    smsc.link = {session, inbox};
    return {system_id: 'node-smsc'};
  }
  if (pdu.command === 'submit_sm') {
    const text = u.smText(pdu.short_message);
    const entry = {pdu, id: '', status: 0};
    smsc.submits.push(entry);
    if (/FAIL-WITH-0x45/.test(text)) {
      // node-smpp writes an error response as a bare 16-octet header (no message_id field).
      entry.status = smpp.ESME_RSUBMITFAIL;
      return {command_status: smpp.ESME_RSUBMITFAIL};
    }
    if (/NACK-ME/.test(text)) {
      entry.status = smpp.ESME_RSYSERR;
      session.send(new smpp.PDU('generic_nack', {sequence_number: pdu.sequence_number,
                                                 command_status: smpp.ESME_RSYSERR}));
      return null;
    }
    entry.id = (smsc.nextId++).toString(16).toUpperCase();
    const opts = {message_id: entry.id};
    // A TLV in a submit_sm_resp (allowed by v5.0, seen from real carriers).
    if (/shipped/.test(text)) opts.additional_status_info_text = 'queued by node-smsc';
    return opts;
  }
  return {command_status: smpp.ESME_RINVBNDSTS};
}

function startSmsc() {
  return new Promise((resolve, reject) => {
    const server = smpp.createServer((session) => {
      session.on('error', (e) => console.log('# smsc session error: ' + e.message));
      const inbox = new u.Inbox(session, 'the node SMSC', (pdu) => answer(session, inbox, pdu));
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function yymmddhhmm(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) +
         p(d.getUTCMinutes());
}

// A delivery receipt for `entry` as the SMSC sends it.
function receiptFor(entry) {
  const req = entry.pdu;
  const now = yymmddhhmm(new Date());
  const text = 'id:' + entry.id + ' sub:001 dlvrd:001 submit date:' + now + ' done date:' + now +
               ' stat:DELIVRD err:000 text:' + u.smText(req.short_message).slice(0, 20).replace(/[^ -~]/g, '?');
  return {
    source_addr_ton: req.dest_addr_ton, source_addr_npi: req.dest_addr_npi, source_addr: req.destination_addr,
    dest_addr_ton: req.source_addr_ton, dest_addr_npi: req.source_addr_npi, destination_addr: req.source_addr,
    esm_class: 0x04, data_coding: 1, short_message: Buffer.from(text, 'ascii'),
    receipted_message_id: entry.id, message_state: 2,
  };
}

function isReceipt(p) {
  return p.command === 'deliver_sm' && (p.esm_class & 0x3c) === 0x04;
}

function body(pdu) {
  return pdu._raw.slice(16);   // everything after the header (the sequence number is remapped)
}

async function main() {
  section('the proxy binds to the node SMSC');
  const server = await startSmsc();
  u.writeJsonFile(smscPortsFile, {smpp: server.address().port});
  console.log('# node SMSC listening on 127.0.0.1:' + server.address().port);
  await u.waitFor('the proxy to bind', 60000, () => smsc.link);
  const bind = smsc.binds[smsc.binds.length - 1];
  checkEq(bind.command, 'bind_transceiver', 'the proxy binds with');
  checkEq(bind.system_id, upSystemId, 'bind system_id');
  checkEq(bind.password, upPassword, 'bind password');
  checkEq(bind.interface_version, 0x34, 'bind interface_version');
  const link = smsc.link;

  section('the ESME (node-smpp client) binds to the proxy');
  const ports = await u.readJsonFile(daemonPortsFile, 30000);
  const esme = await u.connect(ports.smpp);
  const inbox = new u.Inbox(esme, 'the node ESME');
  const b = await u.request(esme, 'bind_transceiver', {system_id: systemId, password}, T);
  checkEq(b.command_status, 0, 'ESME bind_transceiver_resp command_status');

  section('START to the short code (deliver_sm from the SMSC)');
  const startReq = {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: subscriber,
    dest_addr_ton: 3, dest_addr_npi: 0, destination_addr: shortCode,
    data_coding: 0, short_message: 'START',
  };
  const startResp = await u.request(link.session, 'deliver_sm', startReq, T);
  checkEq(startResp.command, 'deliver_sm_resp', 'the proxy answered with');
  checkEq(startResp.command_status, 0, 'deliver_sm_resp command_status');
  console.log('# the proxy\'s deliver_sm_resp: ' + startResp._raw.toString('hex'));
  const confirm = await u.waitFor('the opt-in confirmation', T, () =>
    smsc.submits.find((e) => e.pdu.destination_addr === subscriber && /subscribed/.test(u.smText(e.pdu.short_message))));
  const c = confirm.pdu;
  console.log('# opt_in_confirm text: ' + JSON.stringify(u.smText(c.short_message)));
  checkEq(c.source_addr, shortCode, 'opt_in_confirm source_addr (the short code texted)');
  checkEq(c.source_addr_ton, 3, 'opt_in_confirm source_addr_ton (short code)');
  checkEq(c.source_addr_npi, 0, 'opt_in_confirm source_addr_npi (short code)');
  checkEq(c.destination_addr, subscriber, 'opt_in_confirm destination_addr (digits without +)');
  checkEq(c.dest_addr_ton, 1, 'opt_in_confirm dest_addr_ton (E.164)');
  checkEq(c.dest_addr_npi, 1, 'opt_in_confirm dest_addr_npi (E.164)');
  const startMo = await inbox.waitFor('the START MO', T, (p) => p.command === 'deliver_sm' && !isReceipt(p));
  checkEq(body(startMo), body(startResp._request), 'the START MO reached the ESME byte for byte (body)');
  // The carrier's receipt for the proxy's own message is consumed by the proxy.
  const r0 = await u.request(link.session, 'deliver_sm', receiptFor(confirm), T);
  checkEq(r0.command_status, 0, 'receipt for the opt-in confirmation answered with status');

  section('START to the toll-free number, from a +E.164 source');
  const start2 = await u.request(link.session, 'deliver_sm', {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: '+' + subscriber2,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: tollFree,
    data_coding: 0, short_message: 'start',
  }, T);
  checkEq(start2.command_status, 0, 'deliver_sm_resp command_status');
  const confirm2 = await u.waitFor('the second opt-in confirmation', T, () =>
    smsc.submits.find((e) => e.pdu.destination_addr === subscriber2));
  checkEq(confirm2.pdu.source_addr, tollFree, 'opt_in_confirm source_addr (the number texted)');
  checkEq(confirm2.pdu.source_addr_ton, 1, 'opt_in_confirm source_addr_ton (E.164)');
  checkEq(confirm2.pdu.source_addr_npi, 1, 'opt_in_confirm source_addr_npi (E.164)');
  checkEq(confirm2.pdu.dest_addr_ton, 1, 'opt_in_confirm dest_addr_ton');
  checkEq(confirm2.pdu.dest_addr_npi, 1, 'opt_in_confirm dest_addr_npi');
  const mo2 = await inbox.waitFor('the second START MO', T, (p) => p.command === 'deliver_sm' &&
                                  p.source_addr === '+' + subscriber2);
  checkEq(mo2.source_addr, '+' + subscriber2, 'the MO reaches the ESME with its address as it came');

  section('MT from the ESME with TLVs, through to the node SMSC');
  const mt = await u.request(esme, 'submit_sm', {
    source_addr_ton: 3, source_addr_npi: 0, source_addr: shortCode,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
    registered_delivery: 1, data_coding: 1, short_message: Buffer.from('Your order has shipped', 'ascii'),
    user_message_reference: 0x0102, source_port: 2948, interop_vendor: Buffer.from('00ff10', 'hex'),
  }, T);
  checkEq(mt.command_status, 0, 'submit_sm_resp command_status');
  const atSmsc = smsc.submits.find((e) => /shipped/.test(u.smText(e.pdu.short_message)));
  check(atSmsc, 'the MT reached the node SMSC');
  checkEq(body(atSmsc.pdu), body(mt._request), 'the MT body at the SMSC equals what the ESME sent');
  checkEq(atSmsc.pdu.user_message_reference, 0x0102, 'user_message_reference TLV at the SMSC');
  checkEq(atSmsc.pdu.source_port, 2948, 'source_port TLV at the SMSC');
  checkEq(atSmsc.pdu.interop_vendor, Buffer.from('00ff10', 'hex'), 'vendor TLV 0x1501 at the SMSC');
  const proxyId = mt.message_id;
  checkEq(mt.additional_status_info_text, 'queued by node-smsc',
          'the TLV of the SMSC\'s submit_sm_resp reaches the ESME (additional_status_info_text)');
  check(proxyId && proxyId !== atSmsc.id, 'the ESME got the proxy id ' + proxyId + ', not the SMSC id ' + atSmsc.id);

  section('the SMSC receipt reaches the ESME with the proxy id');
  const rr = await u.request(link.session, 'deliver_sm', receiptFor(atSmsc), T);
  checkEq(rr.command_status, 0, 'receipt deliver_sm_resp command_status');
  const receipt = await inbox.waitFor('the receipt', T, (p) => isReceipt(p));
  checkEq(receipt.receipted_message_id, proxyId, 'receipted_message_id');
  const rtext = u.smText(receipt.short_message);
  checkEq(rtext.split(' ')[0], 'id:' + proxyId, 'receipt text id field');
  check(rtext.indexOf(atSmsc.id) < 0, 'the SMSC id does not appear in the receipt text', rtext);
  checkEq(receipt.message_state, 2, 'message_state TLV');
  checkEq(receipt.source_addr, subscriber, 'receipt source_addr');
  checkEq(receipt.destination_addr, shortCode, 'receipt destination_addr');

  section('error answers from the SMSC (node-smpp sends them without a body)');
  const failed = await u.request(esme, 'submit_sm', {
    source_addr_ton: 3, source_addr_npi: 0, source_addr: shortCode,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
    data_coding: 1, short_message: Buffer.from('FAIL-WITH-0x45', 'ascii'),
  }, T);
  checkEq(u.hex8(failed.command_status), '0x00000045', 'submit_sm_resp status passed on from the SMSC');
  checkEq(failed.command, 'submit_sm_resp', 'the ESME got');
  console.log('# the SMSC wrote ' + smsc.submits[smsc.submits.length - 1].pdu.command + '_resp as 16 octets; ' +
              'the ESME read ' + failed._raw.toString('hex'));
  const nacked = await u.request(esme, 'submit_sm', {
    source_addr_ton: 3, source_addr_npi: 0, source_addr: shortCode,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
    data_coding: 1, short_message: Buffer.from('NACK-ME', 'ascii'),
  }, T);
  checkEq(nacked.command, 'submit_sm_resp', 'a generic_nack from the SMSC reaches the ESME as');
  checkEq(u.hex8(nacked.command_status), '0x00000008', 'with the generic_nack status');

  section('a long UCS2 MT in parts, byte for byte');
  const long = u.longUcs2Text();
  const pieces = u.splitUtf16(long, 67);
  const mtParts = [];
  for (let i = 0; i < pieces.length; ++i) {
    const r = await u.request(esme, 'submit_sm', {
      source_addr_ton: 3, source_addr_npi: 0, source_addr: shortCode,
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: subscriber,
      registered_delivery: 1, data_coding: 8,
      short_message: {udh: Buffer.from([0x05, 0x00, 0x03, 0x3c, pieces.length, i + 1]), message: pieces[i]},
    }, T);
    checkEq(r.command_status, 0, 'part ' + (i + 1) + ' submit_sm_resp status');
    mtParts.push(r);
  }
  const arrived = smsc.submits.filter((e) => e.pdu.data_coding === 8 && (e.pdu.esm_class & 0x40));
  checkEq(arrived.length, pieces.length, 'parts at the SMSC');
  let payload = Buffer.alloc(0);
  arrived.forEach((e, i) => {
    checkEq(body(e.pdu), body(mtParts[i]._request), 'part ' + (i + 1) + ' body at the SMSC equals the ESME\'s');
    const udh = e.pdu.short_message.udh ? Buffer.concat(e.pdu.short_message.udh) : Buffer.alloc(0);
    checkEq(udh.toString('hex'), '00033c0' + pieces.length + '0' + (i + 1), 'part ' + (i + 1) + ' UDH element');
    payload = Buffer.concat([payload, u.utf16be(e.pdu.short_message.message)]);
  });
  checkEq(u.fromUtf16be(payload), long, 'the reassembled text at the SMSC');
  const ids = mtParts.map((r) => r.message_id);
  check(new Set(ids).size === ids.length && arrived.every((e, i) => e.id !== ids[i]),
        'each part got its own proxy id (' + ids.join(' ') + ')');
  // A receipt for the third part only: it is routed with that part's proxy id.
  const r3 = await u.request(link.session, 'deliver_sm', receiptFor(arrived[2]), T);
  checkEq(r3.command_status, 0, 'receipt for part 3 answered with status');
  const rp = await inbox.waitFor('the receipt of part 3', T, (p) => isReceipt(p) && p.receipted_message_id === ids[2]);
  checkEq(u.smText(rp.short_message).split(' ')[0], 'id:' + ids[2], 'part 3 receipt text id field');

  section('a long UCS2 MO in parts (16-bit reference UDH), byte for byte');
  const moText = 'Здравствуйте! Подскажите, пожалуйста, когда придёт мой заказ №4711? ' +
                 'Я жду его уже третий день 😟 и очень переживаю. Заранее спасибо за ответ! 🙏';
  const moPieces = u.splitUtf16(moText, 66);   // 132 octets + 8 octets of UDH = 140
  const moSent = [];
  for (let i = 0; i < moPieces.length; ++i) {
    const r = await u.request(link.session, 'deliver_sm', {
      source_addr_ton: 1, source_addr_npi: 1, source_addr: subscriber,
      dest_addr_ton: 3, dest_addr_npi: 0, destination_addr: shortCode,
      data_coding: 8,
      short_message: {udh: Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, moPieces.length, i + 1]), message: moPieces[i]},
    }, T);
    checkEq(r.command_status, 0, 'MO part ' + (i + 1) + '/' + moPieces.length + ' deliver_sm_resp status');
    moSent.push(r._request);
  }
  const moGot = await u.waitFor('every MO part at the ESME', T, () => {
    const got = inbox.pdus.filter((p) => p.command === 'deliver_sm' && p.data_coding === 8);
    return got.length >= moPieces.length ? got : null;
  });
  let moPayload = '';
  moSent.forEach((sent, i) => {
    // Matched by the UDH's part number, whatever order the parts were delivered in.
    const udh = Buffer.from([0x08, 0x04, 0x12, 0x34, moPieces.length, i + 1]);
    const p = moGot.find((g) => g.short_message.udh && Buffer.concat(g.short_message.udh).equals(udh));
    if (!check(p, 'MO part ' + (i + 1) + ' reached the ESME with its UDH')) return;
    checkEq(body(p), body(sent), 'MO part ' + (i + 1) + ' body at the ESME equals the SMSC\'s');
    moPayload += u.smText(p.short_message);
  });
  checkEq(moPayload, moText, 'the reassembled MO text at the ESME');

  section('enquire_link both ways, unbind');
  const el = await u.request(esme, 'enquire_link', {}, T);
  checkEq(el.command_status, 0, 'ESME enquire_link answered by the proxy');
  const el2 = await u.request(link.session, 'enquire_link', {}, T);
  checkEq(el2.command, 'enquire_link_resp', 'SMSC enquire_link answered by the proxy with');
  checkEq(el2.command_status, 0, 'its command_status');
  const receipts = inbox.pdus.filter(isReceipt).map((p) => p.receipted_message_id);
  checkEq(receipts.join(','), [proxyId, ids[2]].join(','),
          'the ESME got exactly the receipts of its own messages (none for the opt-in confirmation)');
  const ub = await u.request(esme, 'unbind', {}, T);
  checkEq(ub.command_status, 0, 'unbind_resp command_status');
  const smscUnexpected = link.inbox.pdus.filter((p) => !['submit_sm', 'enquire_link', 'bind_transceiver'].includes(p.command));
  checkEq(smscUnexpected.map((p) => p.command).join(','), '', 'no unexpected requests at the SMSC');
  await u.closeSession(esme);
  server.close();
}

u.run('interop: node-smpp ESME -> smppguard -> node-smpp SMSC', 150000, main);
