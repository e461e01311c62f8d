// The conformance-vector runner (docs/bindings.md): one file for every
// JavaScript runtime, the Node binding and the WebAssembly build in Node,
// Chromium and workerd. `api` is the module (it has `Gate` and
// `MfagateError`); `files` are [{ name, text }] of every tests/vectors/*.json
// file except index.json. Comparison rules are the Rust matcher's
// (core/src/conformance.rs): numbers by value, a boolean only equals a
// boolean, a missing key counts as null.

export const VECTOR_FORMAT = 'mfagate-vectors/1';

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function deepEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Where `actual` differs from the subset `expected`, or null. Objects match
 * when every expected key matches (a missing key counts as null); arrays
 * element by element and in length; anything else by strict equality (JS
 * numbers compare by value; `true` never equals `1`). */
export function subsetMismatch(expected, actual, at = 'decision') {
  if (isObj(expected) && isObj(actual)) {
    for (const [k, ev] of Object.entries(expected)) {
      const m = subsetMismatch(ev, Object.hasOwn(actual, k) ? actual[k] : null, `${at}.${k}`);
      if (m) return m;
    }
    return null;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    for (let i = 0; i < expected.length; i++) {
      const m = subsetMismatch(expected[i], actual[i], `${at}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (deepEqual(expected, actual)) return null;
  return `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

async function runCase(api, keysText, c) {
  let gate, buildError = null;
  try {
    gate = new api.Gate(c.policy, keysText);
  } catch (e) {
    buildError = e;
  }
  if (c.expect_error !== undefined && c.expect_error !== null) {
    if (!buildError) return 'the gate built, but an error was expected';
    if (!(buildError instanceof api.MfagateError) || !(buildError instanceof Error)) {
      return `the error is not an MfagateError: ${buildError}`;
    }
    return subsetMismatch(c.expect_error, { code: buildError.code, message: buildError.message }, 'error');
  }
  if (buildError) return `the gate did not build: [${buildError.code}] ${buildError.message}`;
  if (c.expect === undefined || c.expect === null) return 'the case has neither expect nor expect_error';
  try {
    const d = await gate.evaluate(c.request);
    return subsetMismatch(c.expect, d, 'decision');
  } finally {
    gate.free?.();
  }
}

/** Runs every case; returns { passed, failed: [{ id, why }], lines }. */
export async function runVectors(api, files) {
  const out = { passed: 0, failed: [], lines: [] };
  if (files.length === 0) {
    out.failed.push({ id: '(none)', why: 'no vector files were found' });
  }
  for (const { name, text } of files) {
    let f;
    try {
      f = JSON.parse(text);
      if (f.format !== VECTOR_FORMAT) throw new Error(`format ${JSON.stringify(f.format)} is not ${VECTOR_FORMAT}`);
      if (!Array.isArray(f.cases)) throw new Error('no cases array');
    } catch (e) {
      out.failed.push({ id: name, why: `vector_invalid: ${e.message}` });
      continue;
    }
    const keysText = JSON.stringify(f.keys);
    for (const c of f.cases) {
      let why;
      try {
        why = await runCase(api, keysText, c);
      } catch (e) {
        why = `threw: ${e?.code ? `[${e.code}] ` : ''}${e?.message ?? e}`;
      }
      if (why) out.failed.push({ id: `${name}#${c.id}`, why });
      else out.passed++;
    }
  }
  for (const { id, why } of out.failed) out.lines.push(`FAIL ${id}: ${why}`);
  out.lines.push(`${out.passed} passed, ${out.failed.length} failed`);
  return out;
}

/** tests/matcher/cases.json (its text): pairs the matcher must reject and
 * accept, the same file the Rust and Python matchers run. Returns the pairs
 * it got wrong (empty when it is sound). */
export function matcherSelfTest(text) {
  const f = JSON.parse(text);
  const wrong = [];
  if (f.format !== 'mfagate-matcher/1' || !Array.isArray(f.differs) || f.differs.length === 0) wrong.push('not a matcher file');
  for (const [e, a] of f.differs ?? []) if (subsetMismatch(e, a) === null) wrong.push(`accepted ${JSON.stringify(a)} for ${JSON.stringify(e)}`);
  for (const [e, a] of f.same ?? []) if (subsetMismatch(e, a) !== null) wrong.push(`rejected ${JSON.stringify(a)} for ${JSON.stringify(e)}`);
  return wrong;
}

export const REQUEST_CHECKS_FORMAT = 'mfagate-request-checks/1';

/** Runs tests/requests/checks.json: `evaluate(request)` must throw an
 * MfagateError `request_invalid` whose message (and hint) hold the expected
 * text, or decide when `error` is null. Returns { passed, failed, lines }. */
export async function runRequestChecks(api, text, evaluate) {
  const out = { passed: 0, failed: [], lines: [] };
  const f = JSON.parse(text);
  if (f.format !== REQUEST_CHECKS_FORMAT || !Array.isArray(f.cases)) {
    out.failed.push({ id: 'checks.json', why: `format is not ${REQUEST_CHECKS_FORMAT}` });
  }
  for (const c of f.cases ?? []) {
    let why = null;
    try {
      const d = await evaluate(c.request);
      if (c.error !== null) why = `accepted (${d?.reason}), wanted ${JSON.stringify(c.error)}`;
    } catch (e) {
      if (c.error === null) why = `refused: [${e?.code}] ${e?.message}`;
      else if (!(e instanceof api.MfagateError) || !(e instanceof Error)) why = `not an MfagateError: ${e}`;
      else if (e.code !== 'request_invalid') why = `code ${e.code}`;
      else if (!e.message.includes(c.error)) why = `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(c.error)}`;
      else if (c.hint && !String(e.hint).includes(c.hint)) why = `hint ${JSON.stringify(e.hint)} lacks ${JSON.stringify(c.hint)}`;
    }
    if (why) out.failed.push({ id: c.id, why });
    else out.passed++;
  }
  for (const { id, why } of out.failed) out.lines.push(`FAIL ${id}: ${why}`);
  out.lines.push(`request checks: ${out.passed} passed, ${out.failed.length} failed`);
  return out;
}

/** The error classes' one contract (the same in the Node and WebAssembly
 * packages): `new MfagateError(message, { code, hint, line, docUrl, cause })`,
 * real `Error` subclasses. Returns what is wrong (empty when sound). */
export function errorContract(api) {
  const wrong = [];
  const cause = new Error('underneath');
  for (const Cls of [api.MfagateError, api.PolicyError, api.JwksError, api.UsageError]) {
    const e = new Cls('what was wrong', { code: 'policy_invalid', hint: 'what to do', line: 3, docUrl: 'https://x/errors.md#policy_invalid', cause });
    const checks = {
      'is an Error': e instanceof Error,
      'is an MfagateError': e instanceof api.MfagateError,
      name: e.name === Cls.name,
      message: e.message === 'what was wrong',
      code: e.code === 'policy_invalid',
      hint: e.hint === 'what to do',
      line: e.line === 3,
      docUrl: e.docUrl === 'https://x/errors.md#policy_invalid',
      doc_url: e.doc_url === e.docUrl,
      cause: e.cause === cause,
      stack: typeof e.stack === 'string',
    };
    for (const [what, ok] of Object.entries(checks)) if (!ok) wrong.push(`${Cls.name}: ${what}`);
  }
  return wrong;
}
