// Gate.prototype.evaluate and evaluateClaims: the crossing into the module
// and back, kept lean because it cost more than the decision (issue 20).
// A request goes in as the few strings it is, UTF-8 in one buffer; a
// request of any other shape goes in as the object, so that the core says
// what is wrong with it (this file checks nothing and words nothing). The
// decision comes back as one packed string (layout: src/pack.rs), read here
// into a plain object of exactly the core's JSON form, always in the same
// synchronous turn as the module packed it (the string table depends on it).

export function bindGate(Gate) {
  const encoder = new TextEncoder();
  /** The request's UTF-8; one kept for every call (a large one only for its call). */
  const KEEP = 1 << 18;
  let buf = new Uint8Array(4096);
  let at = 0;
  // The request's fields after fields(): byte lengths (-1: absent) and values.
  let lFirst, lMethod, lPath, lHost, lAuthorization, lToken, now, mfaRegistered, validateMfa;

  function put(s) {
    if (s === undefined) return -1;
    const n = s.length;
    if (n <= 64) {
      // Short ASCII (methods, paths, hosts): a loop costs less than a call
      // of encodeInto.
      if (at + n <= buf.length) {
        let k = 0;
        for (; k < n; k++) {
          const c = s.charCodeAt(k);
          if (c > 0x7f) break;
          buf[at + k] = c;
        }
        if (k === n) {
          at += n;
          return n;
        }
      }
    }
    const need = at + n * 3;
    if (need > buf.length) {
      const bigger = new Uint8Array(Math.max(need, buf.length * 2));
      bigger.set(buf.subarray(0, at));
      buf = bigger;
    }
    const w = encoder.encodeInto(s, buf.subarray(at)).written;
    at += w;
    return w;
  }

  /** Encodes `first` (claims' JSON, or undefined) and the request's fields;
   * false when the request is not an object whose every own enumerable key
   * is a request key with a value of a type that key can take (or reading
   * it threw): the module then reads the object itself. */
  function fields(r, first) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
    let method, path, host, authorization, token;
    now = mfaRegistered = validateMfa = undefined;
    try {
      const keys = Object.keys(r);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const v = r[k] ?? undefined;
        const t = typeof v;
        switch (k) {
          case 'method': if (t !== 'string' && t !== 'undefined') return false; method = v; break;
          case 'path': if (t !== 'string' && t !== 'undefined') return false; path = v; break;
          case 'host': if (t !== 'string' && t !== 'undefined') return false; host = v; break;
          case 'authorization': if (t !== 'string' && t !== 'undefined') return false; authorization = v; break;
          case 'token': if (t !== 'string' && t !== 'undefined') return false; token = v; break;
          case 'now': if (t !== 'number' && t !== 'undefined') return false; now = v; break;
          case 'mfa_registered': if (t !== 'boolean' && t !== 'undefined') return false; mfaRegistered = v; break;
          case 'validate_mfa': if (t !== 'boolean' && t !== 'undefined') return false; validateMfa = v; break;
          default: return false;
        }
      }
    } catch {
      return false;
    }
    if (buf.length > KEEP) buf = new Uint8Array(4096);
    at = 0;
    lFirst = put(first);
    lMethod = put(method);
    lPath = put(path);
    lHost = put(host);
    lAuthorization = put(authorization);
    lToken = put(token);
    return true;
  }

  // The reader of src/pack.rs's layout: the string, the position, and the
  // table of the core's constants (indices from 3).
  const T = [null, null, null];
  let S = '';
  let I = 0;
  function vint() {
    let c = S.charCodeAt(I++);
    if (c < 64) return c;
    let v = c & 63;
    let m = 64;
    do {
      c = S.charCodeAt(I++);
      v += (c & 63) * m;
      m *= 64;
    } while (c & 64);
    return v;
  }
  const len = vint;
  function str() {
    const t = vint();
    if (t > 2) return T[t];
    if (t === 0) return null;
    const id = t === 2 ? vint() : 0;
    const n = vint();
    const v = S.slice(I, I + n);
    I += n;
    if (id !== 0) T[id] = v;
    return v;
  }
  const bool = () => S.charCodeAt(I++) === 1;
  function int() {
    const t = S.charCodeAt(I);
    if (t === 2) {
      I++;
      return vint();
    }
    const v = str();
    return v === null ? null : Number(v);
  }
  function strs() {
    const n = len();
    const out = new Array(n);
    for (let k = 0; k < n; k++) out[k] = str();
    return out;
  }
  function pairs() {
    const n = len();
    const out = new Array(n);
    for (let k = 0; k < n; k++) out[k] = [str(), str()];
    return out;
  }

  function read(s) {
    S = s;
    I = 0;
    const d = {
      outcome: str(),
      reason: str(),
      token_kind: str(),
      kind_evidence: str(),
      rule: str(),
      roles: strs(),
      mfa: { required: bool(), satisfied: bool(), evidence: str(), amr: bool() ? strs() : null, auth_time: int(), max_age: int() },
      exception: bool() ? { tenant: str(), user: str(), reason: str(), expires: int(), reference: str() } : null,
      message: { en: str(), fr: str(), 'pt-BR': str() },
      http: { status: len(), status_text: str(), headers: pairs(), body: str(), response_headers: pairs() },
      redirect: bool() ? { location: str(), params: pairs(), register_first: bool() } : null,
      detail: str(),
      subject: bool() ? { tenant: str(), object_id: str(), user: str(), app_id: str(), home_tenant: str() } : null,
    };
    const left = S.length - I;
    S = '';
    if (left !== 0) throw new Error(`mfagate: the packed decision has ${left} units left over (the package's JavaScript and WebAssembly do not match)`);
    return d;
  }

  let told = false;
  function evaluate(request) {
    try {
      // Once the module is loaded (init() first in browsers and workers).
      if (!told) {
        Gate.__setReader(read);
        told = true;
      }
      const r = fields(request, undefined)
        ? this.__decide(buf.subarray(0, at), lMethod, lPath, lHost, lAuthorization, lToken, now, mfaRegistered, validateMfa)
        : this.__decideObject(request);
      if (r.charCodeAt(0) !== 0x80) return Promise.resolve(read(r));
      // It waits for WebCrypto: `id` finishes it with the answer (true is
      // valid; anything else, or a rejection, is not); 0: the promise is of
      // the decision itself (read by the module with `read`).
      const p = Gate.__pending();
      const id = +r.slice(1);
      if (id === 0) return p;
      return p.then((v) => read(Gate.__complete(id, v === true)), () => read(Gate.__complete(id, false)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  function evaluateClaims(claims, request) {
    let text = claims;
    if (typeof text !== 'string') {
      try {
        text = JSON.stringify(claims);
      } catch {
        text = undefined;
      }
    }
    if (typeof text === 'string' && fields(request, text)) {
      return read(this.__claims(buf.subarray(0, at), lFirst, lMethod, lPath, lHost, lAuthorization, lToken, now, mfaRegistered, validateMfa));
    }
    return read(this.__claimsObject(claims, request));
  }

  const method = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  Object.defineProperties(Gate.prototype, { evaluate: method(evaluate), evaluateClaims: method(evaluateClaims) });
}
