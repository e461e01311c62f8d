// The benchmark, the same code in Node and in Chromium. `api` is
// mfagate-wasm, `jose` the jose package; `data` = { jwks, rs256, hs256,
// claimsJson, now, audience, issuer } made by data.mjs.

const clock = () => (globalThis.performance ?? Date).now();

/** Median µs per operation of `fn` (async when `isAsync`), over `rounds`
 * rounds of `n` sequential operations after a warm-up. */
async function warm(fn, isAsync) {
  // At least 500 operations and one second, so every tier of the JIT is in.
  const t0 = clock();
  for (let i = 0; i < 500 || clock() - t0 < 1000; i++) isAsync ? await fn() : fn();
}

async function round(fn, n, isAsync) {
  const t0 = clock();
  if (isAsync) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) fn();
  return ((clock() - t0) * 1000) / n;
}

const summary = (per, n) => {
  per.sort((a, b) => a - b);
  return { median_us: per[Math.floor(per.length / 2)], min_us: per[0], max_us: per.at(-1), n, rounds: per.length };
};

async function measure(fn, { n, rounds = 7, isAsync = true }) {
  await warm(fn, isAsync);
  const per = [];
  for (let r = 0; r < rounds; r++) per.push(await round(fn, n, isAsync));
  return summary(per, n);
}

/** Two contenders measured in alternating rounds, so load hits both alike. */
async function measurePair(fa, fb, { n, rounds = 9 }) {
  await warm(fa, true);
  await warm(fb, true);
  const pa = [], pb = [];
  for (let r = 0; r < rounds; r++) {
    pa.push(await round(fa, n, true));
    pb.push(await round(fb, n, true));
  }
  return [summary(pa, n), summary(pb, n)];
}

export async function runBench(api, jose, data, { scale = 1 } = {}) {
  const rsGate = new api.Gate('partner-center', data.jwks);
  const rsCached = api.TokenCache ? new api.Gate('partner-center', data.jwks, { cache: new api.TokenCache() }) : null;
  const hsGate = new api.Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } }, data.jwks);
  const req = (t) => ({ method: 'GET', path: '/v1/customers', authorization: `Bearer ${t}`, now: data.now });
  const rsReq = req(data.rs256);
  const hsReq = req(data.hs256);
  const claimsReq = { method: 'GET', path: '/v1/customers', now: data.now };

  // Sanity: every path decides what it should, or the numbers mean nothing.
  const check = (d, what) => { if (d.reason !== 'mfa_satisfied') throw new Error(`${what}: ${d.reason} ${d.detail}`); };
  check(await rsGate.evaluate(rsReq), 'rs256');
  if (rsCached) check(await rsCached.evaluate(rsReq), 'rs256 cached');
  check(await hsGate.evaluate(hsReq), 'hs256');
  check(rsGate.evaluateClaims(data.claimsJson, claimsReq), 'claims');

  const rsaJwk = data.jwks.keys.find((k) => k.kid === 'rsa-1');
  const joseKey = await jose.importJWK({ ...rsaJwk, alg: 'RS256' }, 'RS256');
  const joseSet = jose.createLocalJWKSet({ keys: data.jwks.keys.filter((k) => k.kty !== 'oct') });
  const joseOpts = { audience: data.audience, issuer: data.issuer, algorithms: ['RS256'], currentDate: new Date(data.now * 1000) };
  const jv = await jose.jwtVerify(data.rs256, joseKey, joseOpts);
  if (!jv.payload.amr.includes('mfa')) throw new Error('jose sanity');

  const n = (k) => Math.max(50, Math.round(k * scale));
  const out = {};
  [out.rs256_mfagate, out.rs256_jose_key] = await measurePair(() => rsGate.evaluate(rsReq), () => jose.jwtVerify(data.rs256, joseKey, joseOpts), { n: n(1000) });
  if (rsCached) {
    // The repeated token (a client reusing its access token) with the
    // TokenCache, against jose in the same alternating rounds.
    [out.rs256_mfagate_cached, out.rs256_jose_key_2] = await measurePair(() => rsCached.evaluate(rsReq), () => jose.jwtVerify(data.rs256, joseKey, joseOpts), { n: n(1000) });
    out.ratio_jose_vs_rs256_cached = out.rs256_jose_key_2.median_us / out.rs256_mfagate_cached.median_us;
  }
  out.rs256_jose_jwks = await measure(() => jose.jwtVerify(data.rs256, joseSet, joseOpts), { n: n(1000) });
  // Throughput with 32 requests in flight (WebCrypto work may overlap).
  const conc = async (fn) => measure(() => Promise.all(Array.from({ length: 32 }, fn)), { n: n(60) });
  const c1 = await conc(() => rsGate.evaluate(rsReq));
  const c2 = await conc(() => jose.jwtVerify(data.rs256, joseKey, joseOpts));
  out.rs256_mfagate_x32 = { ...c1, median_us: c1.median_us / 32, min_us: c1.min_us / 32, max_us: c1.max_us / 32, note: 'per request, 32 in flight' };
  out.rs256_jose_key_x32 = { ...c2, median_us: c2.median_us / 32, min_us: c2.min_us / 32, max_us: c2.max_us / 32, note: 'per request, 32 in flight' };
  out.hs256_mfagate = await measure(() => hsGate.evaluate(hsReq), { n: n(20000) });
  out.claims_mfagate = await measure(() => rsGate.evaluateClaims(data.claimsJson, claimsReq), { n: n(20000), isAsync: false });
  out.claims_mfagate_object = await measure(() => rsGate.evaluateClaims(data.claims, claimsReq), { n: n(20000), isAsync: false });
  out.ratio_rs256_vs_jose_key = out.rs256_mfagate.median_us / out.rs256_jose_key.median_us;
  out.ratio_rs256_vs_jose_jwks = out.rs256_mfagate.median_us / out.rs256_jose_jwks.median_us;
  return out;
}

export function table(r) {
  const row = (k) => `${k.padEnd(24)} ${r[k].median_us.toFixed(2).padStart(9)} µs  (min ${r[k].min_us.toFixed(2)}, max ${r[k].max_us.toFixed(2)}, n=${r[k].n}×${r[k].rounds})`;
  return [
    ...['rs256_mfagate', 'rs256_jose_key', ...(r.rs256_mfagate_cached ? ['rs256_mfagate_cached', 'rs256_jose_key_2'] : []), 'rs256_jose_jwks', 'rs256_mfagate_x32', 'rs256_jose_key_x32', 'hs256_mfagate', 'claims_mfagate', 'claims_mfagate_object'].map(row),
    `ratio RS256 mfagate / jose (imported key)  ${r.ratio_rs256_vs_jose_key.toFixed(3)}×`,
    `ratio RS256 mfagate / jose (local JWKS)    ${r.ratio_rs256_vs_jose_jwks.toFixed(3)}×`,
    ...(r.rs256_mfagate_cached ? [`RS256 repeated token: jose / mfagate with TokenCache  ${(Math.floor(r.ratio_jose_vs_rs256_cached * 100) / 100).toFixed(2)}× (rounded down; target >= 20×)`] : []),
  ].join('\n');
}
