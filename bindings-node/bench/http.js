'use strict';
// HTTP load (autocannon) against Express on 127.0.0.1, with and without the
// gate, same request (a valid RS256 token with amr=mfa). The server runs in a
// child process; autocannon in this one (2 cores: one each).
// Usage: node bench/http.js [seconds per run, default 10] [connections, default 10]
const { fork } = require('node:child_process');
const path = require('node:path');
const autocannon = require('autocannon');
const h = require('../test/helpers.js');

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 10);
const token = h.signRS256(h.claims({}, Math.floor(Date.now() / 1000) - 60));

function start(mode) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'http-server.js'), [mode]);
    child.once('message', ({ port }) => resolve({ child, port }));
    child.once('error', reject);
  });
}

async function run(mode) {
  const { child, port } = await start(mode);
  try {
    const check = await fetch(`http://127.0.0.1:${port}/v1/customers`, { headers: { authorization: `Bearer ${token}` } });
    const body = await check.json();
    if (check.status !== 200 || (mode === 'gate' && body.reason !== 'mfa_satisfied')) throw new Error(`${mode}: ${check.status} ${JSON.stringify(body)}`);
    const r = await autocannon({
      url: `http://127.0.0.1:${port}/v1/customers`,
      headers: { authorization: `Bearer ${token}` },
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    if (r.non2xx || r.errors) throw new Error(`${mode}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return r;
  } finally {
    child.send('stop');
  }
}

(async () => {
  console.log(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, GET /v1/customers with a valid RS256 token`);
  console.log('| server | requests/s (mean) | latency p50 ms | p99 ms | requests |');
  console.log('|---|---:|---:|---:|---:|');
  for (const mode of ['plain', 'gate']) {
    const r = await run(mode);
    console.log(`| Express ${mode === 'gate' ? 'with mfagate.express' : 'without the gate'} | ${r.requests.average} | ${r.latency.p50} | ${r.latency.p99} | ${r.requests.total} |`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
