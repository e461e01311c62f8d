// Runs the conformance vectors in Node against the nodejs build.
// Directory: $MFAGATE_VECTORS, else the repository's tests/vectors.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../pkg/node.mjs';
import { runVectors, runRequestChecks, matcherSelfTest, errorContract } from '../../tests/js/vectors-runner.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = resolve(process.env.MFAGATE_VECTORS || join(here, '..', '..', 'tests', 'vectors'));
export function vectorFiles(d = dir) {
  return readdirSync(d)
    .filter((n) => n.endsWith('.json') && n !== 'index.json')
    .sort()
    .map((name) => ({ name, text: readFileSync(join(d, name), 'utf8') }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await runVectors(api, vectorFiles());
  console.log(`vectors (node, ${dir}):`);
  for (const l of r.lines) console.log(l);
  const wrong = [...matcherSelfTest(readFileSync(join(here, '..', '..', 'tests', 'matcher', 'cases.json'), 'utf8')), ...errorContract(api)];
  for (const w of wrong) console.log(`FAIL: ${w}`);
  const gate = new api.Gate('partner-center', '{"keys":[]}');
  const checks = await runRequestChecks(api, readFileSync(join(here, '..', '..', 'tests', 'requests', 'checks.json'), 'utf8'), (req) => gate.evaluate(req));
  for (const l of checks.lines) console.log(l);
  process.exit(r.failed.length > 0 || wrong.length > 0 || checks.failed.length > 0 ? 1 : 0);
}
