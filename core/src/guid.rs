//! GUID shape checks for tenant, group and role IDs.

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, either case).
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        assert!(super::is_guid("df845f1a-7b35-40a2-ba78-6481de91f8ae"));
        assert!(!super::is_guid("df845f1a7b3540a2ba786481de91f8ae"));
        assert!(!super::is_guid("zf845f1a-7b35-40a2-ba78-6481de91f8ae"));
    }
}
