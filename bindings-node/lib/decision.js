'use strict';
// Reads a decision packed by src/pack.rs into a plain object of exactly the
// core's JSON form (same keys, same order). See the grammar in src/pack.rs.

const native = require('./native.js');

const MESSAGES = native.messageTable();
const f64 = new Float64Array(1);
const u16 = new Uint16Array(f64.buffer);
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

// The cursor of the one read in progress: module state, not closures made
// per call (allocating them cost about a third of a read). `read` calls
// nothing that could re-enter it.
let s = '';
let i = 0;

function u32() {
  const v = s.charCodeAt(i) * 65536 + s.charCodeAt(i + 1);
  i += 2;
  return v;
}

function str() {
  const n = u32();
  if (n === 0xffffffff) return null;
  const v = s.slice(i, i + n);
  i += n;
  return v;
}

function num() {
  if (BIG_ENDIAN_HOST) {
    for (let k = 0; k < 4; k++) u16[k] = s.charCodeAt(i + k);
  } else {
    for (let k = 0; k < 4; k++) u16[3 - k] = s.charCodeAt(i + k);
  }
  i += 4;
  return f64[0];
}

function optNum() {
  return s.charCodeAt(i++) === 1 ? num() : null;
}

function bool() {
  return s.charCodeAt(i++) === 1;
}

function strs() {
  const n = u32();
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = str();
  return out;
}

function pairs() {
  const n = u32();
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = [str(), str()];
  return out;
}

function read(packed) {
  s = packed;
  i = 0;
  const outcome = str();
  const reason = str();
  const token_kind = str();
  const kind_evidence = str();
  const rule = str();
  const roles = strs();
  const mfa = {
    required: bool(),
    satisfied: bool(),
    evidence: str(),
    amr: bool() ? strs() : null,
    auth_time: optNum(),
    max_age: optNum(),
  };
  const exception = bool() ? { tenant: str(), user: str(), reason: str(), expires: num(), reference: str() } : null;
  let message;
  if (bool()) {
    const m = MESSAGES[u32()];
    message = { en: m[0], fr: m[1], 'pt-BR': m[2] };
  } else {
    message = { en: str(), fr: str(), 'pt-BR': str() };
  }
  const http = { status: num(), status_text: str(), headers: pairs(), body: str(), response_headers: pairs() };
  const redirect = bool() ? { location: str(), params: pairs(), register_first: bool() } : null;
  const detail = str();
  const subject = bool() ? { tenant: str(), object_id: str(), user: str(), app_id: str(), home_tenant: str() } : null;
  const left = s.length - i;
  s = '';
  if (left !== 0) throw new Error(`mfagate: the packed decision has ${left} units left over (binding out of date?)`);
  return { outcome, reason, token_kind, kind_evidence, rule, roles, mfa, exception, message, http, redirect, detail, subject };
}

module.exports = { read };
