// Node ESM: every public name of the CommonJS entry is importable by name
// from `mfagate` (the package's own name, so the "exports" map is what
// resolves it), and `mfagate/fastify` by default and by name. Named imports
// of a missing name are a SyntaxError at link time, so this file failing to
// load is the failure this test exists for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import mfagate, {
  Gate,
  JwksGate,
  TokenCache,
  BUILTIN_POLICIES,
  MfagateError,
  PolicyError,
  JwksError,
  UsageError,
  express,
  fastify,
  handler,
  decisionOf,
  withDecisionHeaders,
  toResponse,
  sessionCookie,
  validateMfaHeader,
} from 'mfagate';
import * as namespace from 'mfagate';
import fastifyPlugin, { fastify as fastifyNamed } from 'mfagate/fastify';

const require = createRequire(import.meta.url);
const cjs = require('mfagate');

test('every public name of the CommonJS entry is a named ESM export, the same value', () => {
  const named = {
    Gate, JwksGate, TokenCache, BUILTIN_POLICIES, MfagateError, PolicyError, JwksError, UsageError,
    express, fastify, handler, decisionOf, withDecisionHeaders, toResponse, sessionCookie, validateMfaHeader,
  };
  assert.deepEqual(Object.keys(named).sort(), Object.keys(cjs).sort());
  for (const [k, v] of Object.entries(named)) assert.equal(v, cjs[k], k);
  assert.deepEqual(Object.keys(namespace).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort());
  assert.equal(mfagate, cjs);
  assert.equal(require.resolve('mfagate'), require.resolve('../lib/index.js'));
});

test('one instance for import and require: classes and errors are shared', () => {
  const gate = new Gate('partner-center', { keys: [] });
  assert.ok(gate instanceof cjs.Gate);
  assert.equal(gate.evaluate({ path: '/v1/customers', now: 1_700_000_000 }).outcome, 'deny');
  assert.throws(() => new Gate('no-such-policy', { keys: [] }), (e) => e instanceof cjs.PolicyError && e instanceof MfagateError);
  assert.equal(validateMfaHeader('TRUE'), true);
});

test('mfagate/fastify: the plugin by default and by name, in ESM and CommonJS', () => {
  assert.equal(fastifyPlugin, fastify);
  assert.equal(fastifyNamed, fastify);
  assert.equal(require('mfagate/fastify'), fastify);
});
