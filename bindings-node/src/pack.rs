//! The transport of a decision to JavaScript: its fields, in the order of the
//! core's JSON form, written into one UTF-16 string that `lib/decision.js`
//! reads back into a plain object. One N-API call per decision instead of
//! one per field and string (the property-by-property path cost about 6 µs
//! per decision, more than HS256 verification itself). No JSON text: strings
//! are copied as they are, numbers as their f64 bits.
//!
//! Grammar (every item is a run of u16 code units):
//! - `str`: length as u32 (two units, high first), then the UTF-16 units;
//!   a length of 0xFFFF_FFFF means null;
//! - `num`: the f64 bits as four units, most significant first;
//! - `opt_num`: one unit, 0 (null) or 1 followed by a `num`;
//! - `bool`: one unit, 0 or 1;
//! - `len`: a u32 count (two units), followed by that many items;
//! - the message is `bool` true and a u32 index into [`message_table`], or
//!   `bool` false and its three texts.
//!
//! `lib/decision.js` must read exactly this layout; the test suite compares
//! every decision it reads with the core's own JSON (`evaluateJson`).

use mfagate::{Decision, Message, Reason};

/// Every message the core can put in a decision, in a fixed order: for each
/// reason of `Reason::ALL`, without then with `register_first`. Sent once to
/// JavaScript (`messageTable()`); a decision then carries an index into it.
pub fn message_table() -> Vec<Message> {
    Reason::ALL
        .iter()
        .flat_map(|r| {
            [
                mfagate::messages::message(*r, false),
                mfagate::messages::message(*r, true),
            ]
        })
        .collect()
}

/// The index of the decision's message in [`message_table`], if it is there.
fn message_index(d: &Decision) -> Option<usize> {
    let at = Reason::ALL.iter().position(|r| *r == d.reason)?;
    [false, true]
        .iter()
        .position(|rf| mfagate::messages::message(d.reason, *rf) == d.message)
        .map(|k| at * 2 + k)
}

const NULL: u32 = u32::MAX;

pub struct Packer {
    out: Vec<u16>,
}

impl Packer {
    fn u32(&mut self, v: u32) {
        self.out.push((v >> 16) as u16);
        self.out.push((v & 0xFFFF) as u16);
    }

    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX - 1));
    }

    fn str(&mut self, s: &str) {
        // Nearly every string of a decision is ASCII: widening its bytes is
        // a straight copy the compiler vectorizes, where `encode_utf16`
        // walks char by char (a tenth of a cached decision's crossing).
        if s.is_ascii() {
            self.len(s.len());
            self.out.extend(s.bytes().map(u16::from));
            return;
        }
        let at = self.out.len();
        self.u32(0);
        self.out.extend(s.encode_utf16());
        let n = u32::try_from(self.out.len() - at - 2).unwrap_or(u32::MAX - 1);
        self.out[at] = (n >> 16) as u16;
        self.out[at + 1] = (n & 0xFFFF) as u16;
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.u32(NULL),
        }
    }

    fn num(&mut self, v: f64) {
        let b = v.to_bits();
        self.out.extend([
            (b >> 48) as u16,
            (b >> 32) as u16,
            (b >> 16) as u16,
            b as u16,
        ]);
    }

    fn opt_num(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.out.push(1);
                self.num(v);
            }
            None => self.out.push(0),
        }
    }

    fn bool(&mut self, b: bool) {
        self.out.push(u16::from(b));
    }

    fn pairs<A: AsRef<str>, B: AsRef<str>>(&mut self, pairs: &[(A, B)]) {
        self.len(pairs.len());
        for (a, b) in pairs {
            self.str(a.as_ref());
            self.str(b.as_ref());
        }
    }
}

/// Writes a decision, field by field, in the order of its JSON form.
pub fn decision(d: &Decision) -> Vec<u16> {
    let mut p = Packer {
        out: Vec::with_capacity(512 + d.http.body.len() + d.detail.as_ref().map_or(0, String::len)),
    };
    p.str(d.outcome.as_str());
    p.str(d.reason.as_str());
    p.opt_str(d.token_kind.map(|k| k.as_str()));
    p.opt_str(d.kind_evidence);
    p.opt_str(d.rule.as_deref());
    let roles: Vec<_> = d.roles.iter().collect();
    p.len(roles.len());
    for r in roles {
        p.str(r.as_str());
    }
    // mfa
    p.bool(d.mfa.required);
    p.bool(d.mfa.satisfied);
    p.opt_str(d.mfa.evidence);
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
    p.opt_num(d.mfa.auth_time.map(|v| v as f64));
    p.opt_num(d.mfa.max_age.map(|v| v as f64));
    // exception
    match &d.exception {
        Some(e) => {
            p.bool(true);
            p.str(&e.tenant);
            p.opt_str(e.user.as_deref());
            p.str(&e.reason);
            p.num(e.expires as f64);
            p.opt_str(e.reference.as_deref());
        }
        None => p.bool(false),
    }
    // message: an index into the message table, or the text
    match message_index(d) {
        Some(i) => {
            p.bool(true);
            p.len(i);
        }
        None => {
            p.bool(false);
            p.str(d.message.en);
            p.str(d.message.fr);
            p.str(d.message.pt_br);
        }
    }
    // http
    p.num(f64::from(d.http.status));
    p.str(d.http.status_text);
    p.pairs(&d.http.headers);
    p.str(&d.http.body);
    p.pairs(&d.http.response_headers());
    // redirect
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
    p.out
}
