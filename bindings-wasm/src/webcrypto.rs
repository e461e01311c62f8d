//! WebCrypto (`crypto.subtle`), captured when the module starts, with its
//! parameters per algorithm and the keys imported into it.

use crate::convert::obj;
use crate::errors::{crypto_error, set};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use mfagate::Algorithm;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    pub(crate) type SubtleCrypto;

    #[wasm_bindgen(method, catch, js_name = importKey)]
    pub(crate) fn import_key(
        this: &SubtleCrypto,
        format: &str,
        key: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub(crate) fn verify(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;
}

thread_local! {
    /// WebCrypto as it was when the module was initialised (see `start`):
    /// `None` when there was none.
    pub(crate) static WEBCRYPTO: std::cell::OnceCell<Option<JsValue>> = const { std::cell::OnceCell::new() };
    /// WebCrypto's parameter objects per algorithm, made once (WebCrypto
    /// only reads them).
    static PARAMS: RefCell<Vec<(Algorithm, JsValue, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// `globalThis.crypto.subtle`'s `importKey` and `verify` as they are now,
/// bound to it, on a frozen object of the module's own. Signatures are then
/// verified by these functions whatever code running later in the isolate
/// does to `globalThis.crypto`, `crypto.subtle` or its methods.
pub(crate) fn capture_webcrypto() -> Option<JsValue> {
    let get = |o: &JsValue, k: &str| {
        Reflect::get(o, &JsValue::from_str(k))
            .ok()
            .filter(JsValue::is_object)
    };
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let captured = Object::new();
    for name in ["importKey", "verify"] {
        let f = Reflect::get(&subtle, &JsValue::from_str(name))
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        set(&captured, name, &f.bind0(&subtle));
    }
    Some(Object::freeze(&captured).into())
}

/// The WebCrypto captured at initialisation.
pub(crate) fn subtle() -> Result<SubtleCrypto, JsValue> {
    WEBCRYPTO
        .with(|w| w.get_or_init(capture_webcrypto).clone())
        .map(JsCast::unchecked_into)
        .ok_or_else(|| {
            crypto_error("globalThis.crypto.subtle was not available when mfagate was initialised")
        })
}

/// WebCrypto's parameters for importing a key for `alg`, and for verifying.
pub(crate) fn make_params(alg: Algorithm) -> Option<(JsValue, JsValue)> {
    let s = JsValue::from_str;
    match alg {
        Algorithm::RS256 => {
            let imp = obj(&[("name", s("RSASSA-PKCS1-v1_5")), ("hash", s("SHA-256"))]);
            Some((imp, obj(&[("name", s("RSASSA-PKCS1-v1_5"))])))
        }
        Algorithm::PS256 => {
            let imp = obj(&[("name", s("RSA-PSS")), ("hash", s("SHA-256"))]);
            Some((
                imp,
                obj(&[
                    ("name", s("RSA-PSS")),
                    ("saltLength", JsValue::from_f64(32.0)),
                ]),
            ))
        }
        Algorithm::ES256 => {
            let imp = obj(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))]);
            Some((imp, obj(&[("name", s("ECDSA")), ("hash", s("SHA-256"))])))
        }
        Algorithm::HS256 => None,
    }
}

pub(crate) fn webcrypto_params(alg: Algorithm) -> Option<(JsValue, JsValue)> {
    PARAMS.with(|p| {
        if let Some((_, i, v)) = p.borrow().iter().find(|(a, _, _)| *a == alg) {
            return Some((i.clone(), v.clone()));
        }
        let (i, v) = make_params(alg)?;
        p.borrow_mut().push((alg, i.clone(), v.clone()));
        Some((i, v))
    })
}

/// The `message` of a thrown JavaScript error.
pub(crate) fn error_message(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "WebCrypto is not usable".into())
}

/// One imported key: the import's promise until it settles, then the key.
pub(crate) enum Slot {
    Importing(Promise),
    Ready(JsValue),
}

/// Keys imported into WebCrypto, once per (key index, algorithm).
#[derive(Default)]
pub(crate) struct KeyCache {
    slots: RefCell<Vec<(usize, Algorithm, Slot)>>,
}

impl KeyCache {
    pub(crate) fn lookup(&self, idx: usize, alg: Algorithm) -> Option<Result<JsValue, Promise>> {
        self.slots
            .borrow()
            .iter()
            .find(|(i, a, _)| *i == idx && *a == alg)
            .map(|(_, _, s)| match s {
                Slot::Ready(k) => Ok(k.clone()),
                Slot::Importing(p) => Err(p.clone()),
            })
    }

    pub(crate) fn put(&self, idx: usize, alg: Algorithm, slot: Slot) {
        let mut slots = self.slots.borrow_mut();
        slots.retain(|(i, a, _)| !(*i == idx && *a == alg));
        slots.push((idx, alg, slot));
    }

    pub(crate) fn forget(&self, idx: usize, alg: Algorithm) {
        self.slots
            .borrow_mut()
            .retain(|(i, a, _)| !(*i == idx && *a == alg));
    }
}
