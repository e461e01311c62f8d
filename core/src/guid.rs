//! GUID shape checks for tenant, group and role IDs.

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, either case).
pub fn is_guid(s: &str) -> bool {
    /// Where the dashes go.
    const DASH: [bool; 36] = {
        let mut d = [false; 36];
        d[8] = true;
        d[13] = true;
        d[18] = true;
        d[23] = true;
        d
    };
    let Ok(b) = <&[u8; 36]>::try_from(s.as_bytes()) else {
        return false;
    };
    // One branch-free pass over the fixed 36 bytes (tenant IDs are checked
    // on every decision).
    b.iter().zip(DASH).fold(true, |ok, (&c, dash)| {
        let hex = c.wrapping_sub(b'0') < 10 || (c | 0x20).wrapping_sub(b'a') < 6;
        ok & (if dash { c == b'-' } else { hex })
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
