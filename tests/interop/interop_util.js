'use strict';
// Shared helpers of the node interop scripts (tests/interop/*.js): arguments, checks with a
// printed report, bounded waits, the simulator's HTTP API, promise wrappers over node-smpp and
// the raw bytes of every PDU node-smpp writes or reads (for byte-for-byte comparisons).
// The scripts use the npm package `smpp` (node-smpp 0.5.1) as an independent SMPP peer; nothing
// here reimplements SMPP.

const fs = require('fs');
const http = require('http');
const smpp = require('smpp');

// ---- arguments --------------------------------------------------------------------------------

// `--name=value` or `--name value`; falls back to the environment variable INTEROP_NAME
// (upper case, '-' -> '_'), then to `fallback`. Throws when nothing gives a value.
function arg(name, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--' + name && i + 1 < argv.length) return argv[i + 1];
    if (argv[i].startsWith('--' + name + '=')) return argv[i].slice(name.length + 3);
  }
  const env = process.env['INTEROP_' + name.toUpperCase().replace(/-/g, '_')];
  if (env !== undefined && env !== '') return env;
  if (fallback !== undefined) return fallback;
  throw new Error('missing --' + name + ' (or INTEROP_' + name.toUpperCase().replace(/-/g, '_') + ')');
}

// ---- checks -----------------------------------------------------------------------------------

let failures = 0;
let passed = 0;
let step = 'start';

function show(v) {
  if (Buffer.isBuffer(v)) return '<' + v.toString('hex') + '>';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v);
  } catch (e) {
    return String(v);
  }
}

function check(cond, what, detail) {
  if (cond) {
    ++passed;
    console.log('ok   - ' + what);
  } else {
    ++failures;
    console.log('FAIL - ' + what + (detail !== undefined ? ': ' + detail : ''));
  }
  return !!cond;
}

// Long values are abbreviated in the report line; a failure prints both in full.
function brief(v) {
  const s = show(v);
  return s.length <= 80 ? s : s.slice(0, 60) + '... (' + s.length + ' chars)';
}

function checkEq(actual, expected, what) {
  const same = Buffer.isBuffer(expected)
    ? Buffer.isBuffer(actual) && actual.equals(expected)
    : actual === expected;
  const long = show(expected).length > 80;
  return check(same, what + ' = ' + brief(expected),
               'got ' + show(actual) + (long ? '\n       expected ' + show(expected) : ''));
}

function section(name) {
  step = name;
  console.log('# ' + name);
}

// Runs `main` (async) under an overall deadline; prints the summary and exits 0 only when every
// check passed and nothing threw.
function run(name, deadlineMs, main) {
  const timer = setTimeout(() => {
    console.log('FAIL - ' + name + ': overall deadline of ' + deadlineMs + ' ms passed during "' +
                step + '"');
    process.exit(2);
  }, deadlineMs);
  console.log('# ' + name + ' (node ' + process.version + ', smpp ' +
              require('smpp/package.json').version + ')');
  main().then(() => {
    clearTimeout(timer);
    console.log('# ' + passed + ' checks passed, ' + failures + ' failed');
    process.exit(failures === 0 ? 0 : 1);
  }, (e) => {
    clearTimeout(timer);
    console.log('FAIL - ' + name + ' stopped during "' + step + '": ' + (e && e.stack ? e.stack : e));
    console.log('# ' + passed + ' checks passed, ' + (failures + 1) + ' failed');
    process.exit(1);
  });
}

// ---- waiting ----------------------------------------------------------------------------------

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `pred` (sync or async) every 25 ms until it returns a truthy value, which is returned;
// throws after `timeoutMs`.
async function waitFor(what, timeoutMs, pred) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + what);
    await sleep(25);
  }
}

// Waits until `file` holds JSON (written by another process) and returns it.
async function readJsonFile(file, timeoutMs) {
  return waitFor('the file ' + file, timeoutMs, () => {
    try {
      const text = fs.readFileSync(file, 'utf8');
      return text.trim() ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  });
}

// Writes JSON atomically (temp file, then rename).
function writeJsonFile(file, value) {
  fs.writeFileSync(file + '.tmp', JSON.stringify(value));
  fs.renameSync(file + '.tmp', file);
}

// ---- HTTP (the simulator's control port) ------------------------------------------------------

function httpJson(port, method, path, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: '127.0.0.1', port, method, path,
      headers: data ? {'Content-Type': 'application/json', 'Content-Length': data.length} : {},
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (e) {
          json = null;
        }
        resolve({status: res.statusCode, json, text});
      });
    });
    req.setTimeout(timeoutMs || 20000, () => req.destroy(new Error(method + ' ' + path + ' timed out')));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// ---- node-smpp --------------------------------------------------------------------------------

// node-smpp keeps no copy of the octets it writes or reads. Wrap its two codec entry points so
// that every PDU object carries `_raw`, the exact frame on the wire (the library's behaviour is
// otherwise unchanged).
function captureRawFrames() {
  const PDU = smpp.PDU;
  if (PDU._interopCapture) return;
  PDU._interopCapture = true;
  const toBuffer = PDU.prototype.toBuffer;
  PDU.prototype.toBuffer = function () {
    const b = toBuffer.call(this);
    this._raw = b;
    return b;
  };
  PDU.fromStream = function (stream, commandLength) {
    const rest = stream.read(commandLength - 4);
    if (!rest) return false;
    const head = Buffer.alloc(4);
    head.writeUInt32BE(commandLength, 0);
    const raw = Buffer.concat([head, rest]);
    const pdu = new PDU(raw);
    pdu._raw = raw;
    return pdu;
  };
}

// Sends a request and resolves with its response PDU; rejects after `timeoutMs`.
function request(session, command, options, timeoutMs) {
  return new Promise((resolve, reject) => {
    const pdu = new smpp.PDU(command, options || {});
    const timer = setTimeout(() => reject(new Error('no response to ' + command + ' within ' +
                                                    (timeoutMs || 10000) + ' ms')), timeoutMs || 10000);
    const sent = session.send(pdu, (resp) => {
      clearTimeout(timer);
      resp._request = pdu;
      resolve(resp);
    });
    if (!sent) {
      clearTimeout(timer);
      reject(new Error(command + ' not sent: the socket is not writable'));
    }
  });
}

// Records every request PDU a session receives and answers it: enquire_link and unbind always,
// other requests through `answer(pdu)` (returning the response options, or null to answer
// nothing), deliver_sm/data_sm with OK by default.
class Inbox {
  constructor(session, name, answer) {
    this.session = session;
    this.name = name;
    this.pdus = [];
    this.answer = answer || (() => ({}));
    session.on('pdu', (pdu) => {
      if (pdu.isResponse()) return;
      this.pdus.push(pdu);
      if (pdu.command === 'enquire_link') {
        session.send(pdu.response());
      } else if (pdu.command === 'unbind') {
        session.send(pdu.response(), () => session.close());
      } else if (pdu.command === 'unknown') {
        session.send(pdu.response());
      } else {
        const opts = this.answer(pdu);
        if (opts) session.send(pdu.response(opts));
      }
    });
  }

  of(command) {
    return this.pdus.filter((p) => p.command === command);
  }

  // Waits for a received PDU matching `pred`, returns it.
  waitFor(what, timeoutMs, pred) {
    return waitFor(this.name + ' to receive ' + what, timeoutMs, () => this.pdus.find(pred));
  }
}

// A client session connected (and nothing more) to host:port.
function connect(port) {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({host: '127.0.0.1', port});
    const onError = (e) => reject(e);
    session.once('error', onError);
    session.once('connect', () => {
      session.removeListener('error', onError);
      session.on('error', (e) => console.log('# session error: ' + e.message));
      resolve(session);
    });
  });
}

function closeSession(session) {
  return new Promise((resolve) => {
    if (session.socket.destroyed) return resolve();
    const t = setTimeout(() => {
      session.destroy();
      resolve();
    }, 2000);
    session.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

// ---- text -------------------------------------------------------------------------------------

function utf16be(text) {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return b;
}

function fromUtf16be(buf) {
  const b = Buffer.from(buf);
  b.swap16();
  return b.toString('utf16le');
}

// Splits `text` into UTF-16 pieces of at most `units` code units, never between the two halves
// of a surrogate pair.
function splitUtf16(text, units) {
  const parts = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + units, text.length);
    if (end < text.length) {
      const c = text.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) --end;
    }
    parts.push(text.slice(i, end));
    i = end;
  }
  return parts;
}

// About 200 characters of Cyrillic with emoji (surrogate pairs), one of them straddling the
// 67-unit boundary of the first part, so a careless splitter would cut it.
function longUcs2Text() {
  const head = 'Уважаемый клиент, ваш заказ №4711 собран и передан в доставку курьерской службой 🚚';
  let text = head.slice(0, 66) + '📦' + head.slice(66);
  text += ' Ожидайте звонка курьера завтра с 9:00 до 18:00. Ответьте STOP, чтобы отписаться 🙂 Спасибо, что выбрали нас! ✅🎉 До встречи!';
  return text;
}

// Reads the text of a short_message node-smpp decoded ({message: string} or a Buffer).
function smText(sm) {
  if (sm === undefined || sm === null) return '';
  if (typeof sm === 'string') return sm;
  if (Buffer.isBuffer(sm)) return sm.toString('latin1');
  if (typeof sm.message === 'string') return sm.message;
  if (Buffer.isBuffer(sm.message)) return sm.message.toString('latin1');
  return '';
}

function hex8(n) {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

module.exports = {
  smpp, arg, check, checkEq, section, run, sleep, waitFor, readJsonFile, writeJsonFile, httpJson,
  captureRawFrames, request, Inbox, connect, closeSession, utf16be, fromUtf16be, splitUtf16,
  longUcs2Text, smText, hex8,
};
