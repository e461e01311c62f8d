//! Every reason and error code is documented, with an anchor to link to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_reason_code_is_documented() {
    let d = doc("reasons.md");
    for r in mfagate::Reason::ALL {
        assert!(
            d.contains(&format!("<a id=\"{r}\"></a>`{r}`")),
            "docs/reasons.md lacks {r}"
        );
    }
}

#[test]
fn every_error_code_is_documented() {
    let d = doc("errors.md");
    for c in mfagate::ErrorCode::ALL {
        assert!(
            d.contains(&format!("### {c}\n")),
            "docs/errors.md lacks {c}"
        );
        assert!(c.doc_url().ends_with(&format!("errors.md#{c}")));
    }
}

#[test]
fn every_lint_code_is_documented() {
    let d = doc("errors.md");
    for c in mfagate::policy::lint::LintCode::ALL {
        let c = c.as_str();
        assert!(
            d.contains(&format!("### {c}\n")),
            "docs/errors.md lacks {c}"
        );
    }
}

#[cfg(feature = "schema")]
#[test]
fn the_schema_file_is_current() {
    let committed: serde_json::Value = serde_json::from_str(&doc("policy.schema.json")).unwrap();
    assert_eq!(
        committed,
        mfagate::Policy::json_schema(),
        "run: cargo run -p mfagate-cli -- policy schema > docs/policy.schema.json"
    );
}
