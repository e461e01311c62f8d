//! A small argument parser: positionals, `--flag` and `--name value`.

/// Options that take a value.
const VALUED: &[&str] = &[
    "--policy",
    "--jwks",
    "--method",
    "--path",
    "--host",
    "--authorization",
    "--token",
    "--now",
    "--lang",
    "--mfa-registered",
];
const FLAGS: &[&str] = &["--json"];

pub struct Args {
    positionals: Vec<String>,
    values: Vec<(String, String)>,
    flags: Vec<String>,
}

impl Args {
    pub fn parse(raw: Vec<String>) -> Result<Args, String> {
        let mut a = Args {
            positionals: Vec::new(),
            values: Vec::new(),
            flags: Vec::new(),
        };
        let mut it = raw.into_iter();
        while let Some(s) = it.next() {
            if VALUED.contains(&s.as_str()) {
                let v = it.next().ok_or_else(|| format!("{s} needs a value"))?;
                a.values.push((s, v));
            } else if FLAGS.contains(&s.as_str()) {
                a.flags.push(s);
            } else if s.starts_with("--") && s.len() > 2 {
                return Err(format!("unknown option {s}; try `mfagate help`"));
            } else {
                a.positionals.push(s);
            }
        }
        Ok(a)
    }

    pub fn positional(&self, i: usize) -> Option<&str> {
        self.positionals.get(i).map(String::as_str)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}
