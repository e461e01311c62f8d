// Regenerates samples.json: tokens of each kind, signed with the repository's
// test keys (tests/keys). `node examples/inspector/make-samples.mjs`
import { writeFileSync } from 'node:fs';
import { jwt, makeClaims, PARTNER } from '../../bindings-wasm/tests/tokens.mjs';

const NOW = 1700000000;
const c = makeClaims(NOW);
const samples = [
  ['App+User token, password only (API refuses: MFA required)', c.appUserPwd],
  ['App+User token with MFA', c.appUserMfa],
  ['App-only token (no user, MFA not applicable)', c.appOnly],
  ['Delegated admin (partner user in a customer tenant), password only', c.delegatedPwd],
  ['ID token of a Global Administrator, password only', c.idTokenPwd],
  ['ID token of a Global Administrator, with MFA', c.idTokenMfa],
  ['ID token of an AdminAgents member (group overage), with MFA', { ...c.idTokenMfa, wids: undefined, hasgroups: true }],
  ['v2 token without amr', { ...c.appUserPwd, amr: undefined, ver: '2.0', iss: `https://login.microsoftonline.com/${c.appUserPwd.tid}/v2.0`, azp: c.appUserPwd.appid, appid: undefined }],
].map(([label, claims]) => ({ label, now: NOW + 60, token: jwt(JSON.parse(JSON.stringify(claims))) }));
void PARTNER;
writeFileSync(new URL('./samples.json', import.meta.url), JSON.stringify(samples, null, 1) + '\n');
console.log(`wrote ${samples.length} samples`);
