'use strict';
// One run, same token, same checks (signature, exp/nbf, aud, iss, amr contains
// "mfa"), mfagate side by side with fast-jwt (cache off), jose, jsonwebtoken
// (KeyObject) and @node-rs/jsonwebtoken, for RS256 and HS256; and the
// repeated token with each side's verified-token cache on (mfagate's
// TokenCache, fast-jwt's cache).
// Usage: node bench/verify.js [seconds per measurement, default 1.5]
const crypto = require('node:crypto');
const os = require('node:os');
const { createVerifier } = require('fast-jwt');
const jose = require('jose');
const jsonwebtoken = require('jsonwebtoken');
const noderS = require('@node-rs/jsonwebtoken');
const { Gate, TokenCache } = require('../lib/index.js');
const h = require('../test/helpers.js');

const SECONDS = Number(process.argv[2] ?? 1.5);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const now = Math.floor(Date.now() / 1000);
const claims = h.claims({}, now - 60);
const ISS = claims.iss;
const AUD = h.AUDIENCE;
const hasMfa = (p) => Array.isArray(p.amr) && p.amr.includes('mfa');

function must(ok, who) {
  if (!ok) throw new Error(`${who}: the token did not pass`);
}

function suite(alg) {
  const rs = alg === 'RS256';
  const token = rs ? h.signRS256(claims) : h.signHS256(claims);
  const pubKey = rs ? crypto.createPublicKey(h.RSA1) : crypto.createSecretKey(h.HS_SECRET);
  const pem = rs ? pubKey.export({ type: 'spki', format: 'pem' }) : h.HS_SECRET;
  const policy = rs ? 'partner-center' : { builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } };
  const gate = new Gate(policy, { keys: [rs ? h.JWK1 : h.OCT] });
  const cached = new Gate(policy, { keys: [rs ? h.JWK1 : h.OCT] }, { cache: new TokenCache() });
  const request = { path: '/v1/customers', authorization: `Bearer ${token}`, now };
  const fast = createVerifier({ key: rs ? pem : h.HS_SECRET, algorithms: [alg], allowedAud: AUD, allowedIss: ISS, cache: false });
  const fastCached = createVerifier({ key: rs ? pem : h.HS_SECRET, algorithms: [alg], allowedAud: AUD, allowedIss: ISS, cache: true });
  const jwtOpts = { algorithms: [alg], audience: AUD, issuer: ISS };
  const nrsOpts = { algorithms: [rs ? noderS.Algorithm.RS256 : noderS.Algorithm.HS256], aud: [AUD], iss: [ISS], validateExp: true, validateNbf: true, leeway: 300 };
  const nrsKey = rs ? pem : h.HS_SECRET;
  return {
    token,
    contenders: [
      ['mfagate (evaluate)', () => must(gate.evaluate(request).outcome === 'allow', 'mfagate')],
      ['fast-jwt (cache off)', () => must(hasMfa(fast(token)), 'fast-jwt')],
      ['jose (jwtVerify)', async () => must(hasMfa((await jose.jwtVerify(token, pubKey, jwtOpts)).payload), 'jose')],
      ['jsonwebtoken (KeyObject)', () => must(hasMfa(jsonwebtoken.verify(token, pubKey, jwtOpts)), 'jsonwebtoken')],
      ['@node-rs/jsonwebtoken (verifySync)', () => must(hasMfa(noderS.verifySync(token, nrsKey, nrsOpts)), '@node-rs/jsonwebtoken')],
      ['mfagate (evaluate, TokenCache)', () => must(cached.evaluate(request).outcome === 'allow', 'mfagate cached')],
      ['fast-jwt (cache on)', () => must(hasMfa(fastCached(token)), 'fast-jwt cached')],
      ['mfagate (evaluateAsync, 1 in flight)', () => gate.evaluateAsync(request).then((d) => must(d.outcome === 'allow', 'mfagate async'))],
    ],
  };
}

async function measure(fn) {
  // warm-up
  for (let i = 0; i < 200; i++) await fn();
  const end = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  let t;
  do {
    for (let i = 0; i < 50; i++) {
      const r = fn();
      if (r && typeof r.then === 'function') await r;
    }
    n += 50;
    t = process.hrtime.bigint();
  } while (t < end);
  return Number(t - start) / 1000 / n; // µs per op
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  console.log(`node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${ROUNDS} rounds x ${SECONDS} s each, interleaved, median`);
  const out = {};
  for (const alg of ['RS256', 'HS256']) {
    const { contenders, token } = suite(alg);
    console.log(`\n${alg} (token ${token.length} bytes)`);
    const times = Object.fromEntries(contenders.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of contenders) times[name].push(await measure(fn));
    }
    const med = Object.fromEntries(Object.entries(times).map(([n, xs]) => [n, median(xs)]));
    const base = med['mfagate (evaluate)'];
    console.log('| library | µs/op (median) | ops/s | mfagate throughput ÷ this |');
    console.log('|---|---:|---:|---:|');
    for (const [name, us] of Object.entries(med)) {
      console.log(`| ${name} | ${us.toFixed(2)} | ${Math.floor(1e6 / us)} | ${(us / base).toFixed(2)}× |`);
    }
    out[alg] = med;
  }
  // Ratios rounded down, never in our favour.
  const down = (x) => (Math.floor(x * 100) / 100).toFixed(2);
  const r = (alg, who, ours = 'mfagate (evaluate)') => down(out[alg][who] / out[alg][ours]);
  const C = 'mfagate (evaluate, TokenCache)';
  console.log('\ntargets:');
  console.log(`RS256 vs fast-jwt: ${r('RS256', 'fast-jwt (cache off)')}× (target >= 1.3×)`);
  console.log(`RS256 vs jose:     ${r('RS256', 'jose (jwtVerify)')}× (target >= 3.5×)`);
  console.log(`HS256 vs fast-jwt: ${r('HS256', 'fast-jwt (cache off)')}× (target >= 4×)`);
  console.log(`RS256 cached vs fast-jwt cached: ${r('RS256', 'fast-jwt (cache on)', C)}× (target >= 1.5×)`);
  console.log(`HS256 cached vs fast-jwt cached: ${r('HS256', 'fast-jwt (cache on)', C)}× (target >= 1.5×)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
