// Node benchmark (nodejs build): node bench/node.mjs [--json out.json]
import * as api from '../pkg/node.mjs';
import * as jose from 'jose';
import { writeFileSync } from 'node:fs';
import { runBench, table } from './bench.js';
import { benchData } from './data.mjs';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const r = await runBench(api, jose, benchData(), { scale });
console.log(`node ${process.version}, mfagate-wasm ${api.version()}`);
console.log(table(r));
const i = process.argv.indexOf('--json');
if (i > 0) writeFileSync(process.argv[i + 1], JSON.stringify({ runtime: `node ${process.version}`, ...r }, null, 1));
