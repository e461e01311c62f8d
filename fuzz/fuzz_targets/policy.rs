//! Any bytes as a policy file, TOML or JSON: loading and linting never
//! panic, and a policy that loads round-trips through its serialised form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfagate::Policy;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let Ok(src) = std::str::from_utf8(rest) else { return };
    let json = first & 1 == 1;
    let _ = mfagate::policy::lint::lint(src, json, 1_767_225_600);
    let loaded = if json { Policy::from_json(src) } else { Policy::from_toml(src) };
    let Ok(p) = loaded else { return };
    let doc = serde_json::to_value(p.doc()).expect("a loaded policy serialises");
    let again = Policy::from_value(doc.clone()).expect("its JSON form loads again");
    assert_eq!(doc, serde_json::to_value(again.doc()).expect("serialises"), "JSON round trip");
    let toml = p.to_toml().expect("a loaded policy has a TOML form");
    let back = Policy::from_toml(&toml).expect("its TOML form loads again");
    assert_eq!(doc, serde_json::to_value(back.doc()).expect("serialises"), "TOML round trip");
    assert_eq!(p.rules().len(), back.rules().len());
});
