//! String enums of the wire that keep values they do not know.

use std::{fmt, marker::PhantomData};

/// A string enum of the wire: every value maps to a variant, unknown ones to `Other`.
/// Implemented by [`wire_enum!`](crate::wire_enum).
pub trait FromWire: Sized {
    /// What the enum is, for serde's error messages.
    const EXPECTING: &'static str;
    /// The variant of `value`, `Other` for a value the enum does not name.
    fn from_wire(value: &str) -> Self;
}

/// Deserializes any [`FromWire`] enum from a string without allocating for known values.
#[derive(Debug)]
pub struct WireVisitor<T>(pub PhantomData<T>);

impl<T: FromWire> serde::de::Visitor<'_> for WireVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from_wire(value))
    }

    // A value of another scalar shape is one this version does not know either: kept, as
    // its JSON text, in `Other`.
    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<T, E> {
        Ok(T::from_wire(if value { "true" } else { "false" }))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<T, E> {
        Ok(T::from_wire(&value.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<T, E> {
        Ok(T::from_wire(&value.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<T, E> {
        Ok(T::from_wire(&value.to_string()))
    }
}

/// Declares a `#[non_exhaustive]` string enum with an `Other(String)` variant, `as_str`,
/// `from_wire`, `KNOWN`, `Display` and serde impls that read and write the wire strings: a
/// value this version does not know — a string, or a number or boolean (as its JSON text) — is
/// kept in `Other`, never an error. `null`, lists and objects are errors.
///
/// ```
/// webhook_guard::wire_enum! {
///     /// An order's state.
///     pub enum OrderState {
///         /// Paid.
///         Paid => "paid",
///     }
/// }
///
/// let states: Vec<OrderState> = serde_json::from_str(r#"["paid","disputed"]"#)?;
/// assert_eq!(states, [OrderState::Paid, OrderState::Other("disputed".into())]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The value as written on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value,
                }
            }

            /// The variant for a wire value; `Other` for a value this version does not know.
            #[must_use]
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// `false` for `Other`.
            #[must_use]
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl $crate::event::wire_enum::FromWire for $name {
            const EXPECTING: &'static str = concat!("a string (", stringify!($name), ")");
            fn from_wire(value: &str) -> Self {
                Self::from_wire(value)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::event::__private::serde::Serialize for $name {
            fn serialize<S: $crate::event::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::event::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::event::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any($crate::event::wire_enum::WireVisitor(
                    ::std::marker::PhantomData,
                ))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(unreachable_pub)]

    wire_enum! {
        /// A test enum.
        pub enum Colour {
            /// Red.
            Red => "red",
            /// Dark blue.
            DarkBlue => "dark_blue",
        }
    }

    #[test]
    fn known_and_other_values() {
        let parsed: Vec<Colour> =
            serde_json::from_str(r#"["red","dark_blue","teal"]"#).expect("strings");
        assert_eq!(
            parsed,
            [
                Colour::Red,
                Colour::DarkBlue,
                Colour::Other("teal".to_owned())
            ]
        );
        assert!(!parsed[2].is_known());
        assert_eq!(
            serde_json::to_string(&parsed).expect("ser"),
            r#"["red","dark_blue","teal"]"#
        );
        assert_eq!(Colour::KNOWN, ["red", "dark_blue"]);
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!(
            serde_json::from_str::<Vec<Colour>>("[3, true]").expect("scalars"),
            [
                Colour::Other("3".to_owned()),
                Colour::Other("true".to_owned())
            ]
        );
        assert!(serde_json::from_str::<Colour>("null").is_err());
        assert!(serde_json::from_str::<Colour>("[]").is_err());
    }
}
