//! One form for every stable code the crate publishes ([`crate::Reason`],
//! [`crate::ErrorCode`], [`crate::policy::lint::LintCode`]): an enum whose
//! variants each carry their snake_case code, with `ALL`, `as_str`,
//! `from_code`, `Display` and `Serialize` (as the code) derived from that one
//! list, so a code is written once and every table, binding and document
//! check reads it from there.

macro_rules! catalogue {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$doc:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$doc])* $variant, )+
        }

        impl $name {
            /// Every code, in declaration order (tests check each is
            /// documented; bindings build their tables from it).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case code, the same in every runtime.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The value a code names (as `as_str` writes it); `None` for an
            /// unknown code.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use catalogue;
