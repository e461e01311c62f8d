//! The decision's crossing into JavaScript: its fields, in the order of the
//! core's JSON form, written into one string that `js/gate.js` reads back
//! into a plain object. One string crosses (one `TextDecoder` call) instead
//! of one JavaScript object and string per field, which cost about 3 µs per
//! decision through serde-wasm-bindgen, as much as the decision itself. No
//! JSON text: strings are copied as they are.
//!
//! Every structural value is a `vint`, whose units are ASCII, so that the
//! usual decision (no text outside ASCII but in the table) is an ASCII
//! string: `TextDecoder`'s fast path, and one-byte strings in JavaScript,
//! which reads it with `charCodeAt`:
//! - `vint`: a whole number in units of 6 bits, low first, each with 64
//!   added when another unit follows;
//! - `str`: a `vint`: 0 is null; 1 a text: its length in UTF-16 units,
//!   then the text; 2 a new entry of JavaScript's string table: its index
//!   (at least 3), the length and the text; 3 or more is that entry;
//! - `len`: a count, a `vint`; `bool`: 0 or 1;
//! - `int`: 0 is null; 2 a whole number below 2^53, then it as a `vint`;
//!   else a `str` of its decimal digits; either way it reads as
//!   `JSON.parse` of the core's JSON reads it.
//!
//! The table holds only the core's `&'static str`s (reasons, messages,
//! status texts, header names), keyed by address, so it is bounded by the
//! binary, never by requests. Every packed decision is read in the same
//! synchronous turn as it is packed (after an `await` too: `__complete`'s
//! caller reads its result at once, and the slow path calls the reader
//! itself), so both sides add entries in one order.
//!
//! `js/gate.js` must read exactly this layout; the conformance vectors
//! compare every decision it reads with the core's JSON.

use mfagate::Decision;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const NULL: u64 = 0;
const TEXT: u64 = 1;
const NEW: u64 = 2;
/// An `int` as a `vint` (in the place of a `str`'s tag).
const INT_VINT: u64 = 2;
/// 2^53: below it every integer is a double, and the units sum exactly.
const SAFE_INT: i128 = 1 << 53;
/// The first table index (0, 1 and 2 are the tags above).
const FIRST_ID: u64 = 3;
/// Entries of the table at most (the binary has far fewer constants).
const TABLE_MAX: u64 = 1 << 16;

/// A multiplicative hash for the (address, length) keys: SipHash is
/// needless for addresses of the binary's own constants.
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

thread_local! {
    /// The `&'static str`s JavaScript's table holds, by address and length.
    static TABLE: RefCell<HashMap<(usize, usize), u64, BuildHasherDefault<AddrHasher>>> =
        RefCell::new(HashMap::default());
}

struct Packer<'t> {
    out: String,
    table: &'t mut HashMap<(usize, usize), u64, BuildHasherDefault<AddrHasher>>,
}

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

impl Packer<'_> {
    fn vint(&mut self, mut v: u64) {
        loop {
            let low = (v & 63) as u8;
            v >>= 6;
            if v == 0 {
                self.out.push(char::from(low));
                return;
            }
            self.out.push(char::from(low | 64));
        }
    }

    fn len(&mut self, n: usize) {
        self.vint(n as u64);
    }

    fn text(&mut self, s: &str) {
        self.len(utf16_len(s));
        self.out.push_str(s);
    }

    fn str(&mut self, s: &str) {
        self.vint(TEXT);
        self.text(s);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.vint(NULL),
        }
    }

    /// A string of the core's constants: sent once, then by its index.
    fn constant(&mut self, s: &'static str) {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(id) = self.table.get(&key) {
            let id = *id;
            self.vint(id);
            return;
        }
        let next = FIRST_ID + self.table.len() as u64;
        if next < TABLE_MAX {
            self.table.insert(key, next);
            self.vint(NEW);
            self.vint(next);
            self.text(s);
        } else {
            self.str(s);
        }
    }

    fn opt_constant(&mut self, s: Option<&'static str>) {
        match s {
            Some(s) => self.constant(s),
            None => self.vint(NULL),
        }
    }

    fn bool(&mut self, b: bool) {
        self.vint(u64::from(b));
    }

    fn int(&mut self, v: Option<i128>) {
        match v {
            Some(v) if (0..SAFE_INT).contains(&v) => {
                self.vint(INT_VINT);
                self.vint(v as u64);
            }
            Some(v) => self.str(&v.to_string()),
            None => self.vint(NULL),
        }
    }

    fn pairs<B: AsRef<str>>(&mut self, pairs: &[(&'static str, B)]) {
        self.len(pairs.len());
        for (a, b) in pairs {
            self.constant(a);
            self.str(b.as_ref());
        }
    }
}

/// A decision, field by field, in the order of its JSON form.
pub(crate) fn decision(d: &Decision) -> String {
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        let mut p = Packer {
            out: String::with_capacity(
                256 + d.http.body.len() + d.detail.as_ref().map_or(0, String::len),
            ),
            table: &mut table,
        };
        write(&mut p, d);
        p.out
    })
}

fn write(p: &mut Packer<'_>, d: &Decision) {
    p.constant(d.outcome.as_str());
    p.constant(d.reason.as_str());
    p.opt_constant(d.token_kind.map(|k| k.as_str()));
    p.opt_constant(d.kind_evidence);
    p.opt_str(d.rule.as_deref());
    p.len(d.roles.iter().count());
    for r in d.roles.iter() {
        p.constant(r.as_str());
    }
    // mfa
    p.bool(d.mfa.required);
    p.bool(d.mfa.satisfied);
    p.opt_constant(d.mfa.evidence);
    match &d.mfa.amr {
        Some(amr) => {
            p.bool(true);
            p.len(amr.len());
            for a in amr {
                p.str(a);
            }
        }
        None => p.bool(false),
    }
    p.int(d.mfa.auth_time.map(i128::from));
    p.int(d.mfa.max_age.map(i128::from));
    match &d.exception {
        Some(e) => {
            p.bool(true);
            p.str(&e.tenant);
            p.opt_str(e.user.as_deref());
            p.str(&e.reason);
            p.int(Some(i128::from(e.expires)));
            p.opt_str(e.reference.as_deref());
        }
        None => p.bool(false),
    }
    p.constant(d.message.en);
    p.constant(d.message.fr);
    p.constant(d.message.pt_br);
    // http
    p.len(usize::from(d.http.status));
    p.constant(d.http.status_text);
    p.pairs(&d.http.headers);
    p.str(&d.http.body);
    p.pairs(&d.http.response_headers());
    match &d.redirect {
        Some(r) => {
            p.bool(true);
            p.str(&r.location);
            p.pairs(&r.params);
            p.bool(r.register_first);
        }
        None => p.bool(false),
    }
    p.opt_str(d.detail.as_deref());
    match &d.subject {
        Some(s) => {
            p.bool(true);
            p.opt_str(s.tenant.as_deref());
            p.opt_str(s.object_id.as_deref());
            p.opt_str(s.user.as_deref());
            p.opt_str(s.app_id.as_deref());
            p.opt_str(s.home_tenant.as_deref());
        }
        None => p.bool(false),
    }
}
