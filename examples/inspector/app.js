// The inspector page: every fact and decision comes from mfagate (WebAssembly);
// this file only renders it.
import init, { inspect, builtinPolicies } from '/pkg/web.js';

const $ = (id) => document.getElementById(id);
const UI = {
  en: { sample: 'Sample token', token: 'Token (JWT)', policy: 'Policy', language: 'Language', inspect: 'Inspect', kind: 'Token kind', mfa: 'MFA evidence', roles: 'Roles', evaluated: 'Evaluated at', rule: 'Rule', path: 'Sample path', decision: 'Decision', reason: 'Reason', claims: 'Header and claims', none: 'none', refused: 'This token cannot be read', note: 'Runs in your browser (WebAssembly). Nothing is sent anywhere. The signature is <strong>not</strong> verified: this explains what the rules would decide if it were good.', amrMfa: 'amr contains "mfa"', amrNoMfa: 'amr without "mfa"', noAmr: 'no amr claim', federated: 'federated MFA claim', authTime: 'auth_time', empty: 'Paste a token or pick a sample.' },
  fr: { sample: 'Jeton d’exemple', token: 'Jeton (JWT)', policy: 'Politique', language: 'Langue', inspect: 'Inspecter', kind: 'Type de jeton', mfa: 'Preuve d’authentification multifacteur', roles: 'Rôles', evaluated: 'Évalué à', rule: 'Règle', path: 'Chemin d’exemple', decision: 'Décision', reason: 'Motif', claims: 'En-tête et revendications', none: 'aucun', refused: 'Ce jeton est illisible', note: 'S’exécute dans votre navigateur (WebAssembly). Rien n’est envoyé. La signature n’est <strong>pas</strong> vérifiée : la page explique ce que les règles décideraient si elle était valide.', amrMfa: 'amr contient « mfa »', amrNoMfa: 'amr sans « mfa »', noAmr: 'pas de revendication amr', federated: 'revendication MFA fédérée', authTime: 'auth_time', empty: 'Collez un jeton ou choisissez un exemple.' },
  'pt-BR': { sample: 'Token de exemplo', token: 'Token (JWT)', policy: 'Política', language: 'Idioma', inspect: 'Inspecionar', kind: 'Tipo de token', mfa: 'Evidência de MFA', roles: 'Funções', evaluated: 'Avaliado em', rule: 'Regra', path: 'Caminho de exemplo', decision: 'Decisão', reason: 'Motivo', claims: 'Cabeçalho e declarações', none: 'nenhuma', refused: 'Este token não pode ser lido', note: 'Executa no seu navegador (WebAssembly). Nada é enviado. A assinatura <strong>não</strong> é verificada: a página explica o que as regras decidiriam se ela fosse válida.', amrMfa: 'amr contém "mfa"', amrNoMfa: 'amr sem "mfa"', noAmr: 'sem declaração amr', federated: 'declaração de MFA federada', authTime: 'auth_time', empty: 'Cole um token ou escolha um exemplo.' },
};
let samples = [];
let last = null;

function lang() { return $('lang').value; }
function t(k) { return UI[lang()][k] ?? UI.en[k]; }

function applyLanguage() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll('[data-i18n]')) {
    if (el.dataset.i18n === 'note') el.innerHTML = t('note'); else el.textContent = t(el.dataset.i18n);
  }
  if (last) render(last);
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  tr.append(td);
  return td;
}

function render(result) {
  $('result').hidden = false;
  const { inspection: i, refusal } = result;
  $('refusal').hidden = !refusal;
  $('summary').hidden = !i;
  if (refusal) {
    $('refusal').textContent = `${t('refused')}: ${refusal.message[lang()]} (${refusal.reason}; ${refusal.detail})`;
    return;
  }
  $('kind').textContent = i.kind;
  $('kind-evidence').textContent = `— ${i.kind_evidence}`;
  const mfa = [];
  mfa.push(i.mfa.amr === null ? t('noAmr') : `${i.mfa.amr_has_mfa ? t('amrMfa') : t('amrNoMfa')}: [${i.mfa.amr.join(', ')}]`);
  if (i.mfa.federated_mfa) mfa.push(t('federated'));
  if (i.mfa.auth_time !== null) mfa.push(`${t('authTime')} ${new Date(i.mfa.auth_time * 1000).toISOString()}`);
  $('mfa').textContent = mfa.join('; ');
  $('roles').textContent = i.roles.length ? i.roles.join(', ') : t('none');
  $('evaluated').textContent = `${new Date(i.evaluated_at * 1000).toISOString()} (${i.evaluated_at})`;
  const body = $('rules').querySelector('tbody');
  body.replaceChildren();
  for (const r of i.rules) {
    const d = r.decision;
    const tr = document.createElement('tr');
    tr.className = d.outcome;
    tr.dataset.rule = r.rule;
    const name = cell(tr, r.rule, 'rule');
    name.title = r.description;
    cell(tr, r.path, 'path');
    cell(tr, d.outcome, 'outcome');
    cell(tr, `${d.http.status}`, 'status');
    const reason = cell(tr, d.message[lang()], 'reason');
    const code = document.createElement('span');
    code.className = 'reason-code';
    code.textContent = d.reason;
    reason.append(code);
    body.append(tr);
  }
  $('claims').textContent = JSON.stringify({ header: i.header, claims: i.claims }, null, 2);
}

function run() {
  const token = $('token').value.trim();
  if (!token) { $('status').textContent = t('empty'); return; }
  const sample = samples.find((s) => s.token === token);
  last = inspect(token, $('policy').value, sample?.now ?? undefined);
  render(last);
  $('status').textContent = '';
  document.body.dataset.inspected = String(Number(document.body.dataset.inspected ?? 0) + 1);
}

await init();
for (const name of builtinPolicies()) $('policy').append(new Option(name, name));
samples = await (await fetch('samples.json')).json();
for (const [i, s] of samples.entries()) $('sample').append(new Option(s.label, String(i)));
const preferred = (navigator.language || 'en').toLowerCase();
$('lang').value = preferred.startsWith('fr') ? 'fr' : preferred.startsWith('pt') ? 'pt-BR' : 'en';
$('sample').addEventListener('change', () => {
  const s = samples[Number($('sample').value)];
  if (s) { $('token').value = s.token; run(); }
});
$('token').addEventListener('input', () => {
  const i = samples.findIndex((s) => s.token === $('token').value.trim());
  $('sample').value = i < 0 ? '' : String(i);
});
$('lang').addEventListener('change', applyLanguage);
$('policy').addEventListener('change', () => { if ($('token').value.trim()) run(); });
$('inspect').addEventListener('click', run);
$('inspect').disabled = false;
applyLanguage();
$('status').textContent = t('empty');
document.body.dataset.ready = 'true';
