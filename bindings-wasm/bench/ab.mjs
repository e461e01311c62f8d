// A/B of two builds (opt-level s vs 3), interleaved so machine load hits
// both alike: node bench/ab.mjs pkg pkg-o3
import { createRequire } from 'node:module';
import { benchData } from './data.mjs';
const require = createRequire(import.meta.url);
const [a, b] = process.argv.slice(2).map((d) => require(`../${d}/node.cjs`));
const data = benchData();
const mk = (api) => ({
  rs: new api.Gate('partner-center', data.jwks),
  hs: new api.Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } }, data.jwks),
});
const ga = mk(a), gb = mk(b);
const rs = { path: '/v1/customers', authorization: `Bearer ${data.rs256}`, now: data.now };
const hs = { path: '/v1/customers', authorization: `Bearer ${data.hs256}`, now: data.now };
const cr = { path: '/v1/customers', now: data.now };
async function time(fn, n) { const t0 = performance.now(); for (let i = 0; i < n; i++) await fn(); return ((performance.now() - t0) * 1000) / n; }
const res = { a: { rs: [], hs: [], cl: [] }, b: { rs: [], hs: [], cl: [] } };
for (let round = 0; round < 9; round++) {
  for (const [k, g] of [['a', ga], ['b', gb]]) {
    res[k].rs.push(await time(() => g.rs.evaluate(rs), 500));
    res[k].hs.push(await time(() => g.hs.evaluate(hs), 3000));
    res[k].cl.push(await time(() => g.rs.evaluateClaims(data.claimsJson, cr), 3000));
  }
}
const med = (x) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)].toFixed(2);
for (const k of ['a', 'b']) console.log(process.argv[k === 'a' ? 2 : 3].padEnd(8), 'rs256', med(res[k].rs), 'µs  hs256', med(res[k].hs), 'µs  claims', med(res[k].cl), 'µs');
