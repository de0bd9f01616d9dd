//! Two passes over one body that do not read a list's records twice.
//!
//! A body is read strictly first (see [`strictly`](super::strictly)); only when that fails is
//! it read again leniently. Without help, the second pass reads every record again, although
//! the first pass had read all of them up to the one that failed. Inside [`two_pass`], a list
//! read by [`records_or_null`] keeps the records its strict pass had read when it failed, and
//! the lenient pass takes them back, skipping their text (a scan, nothing built) and reading
//! only the rest.
//!
//! It relies on the two passes reading the same body with the same model: the list the
//! lenient pass meets is the one that failed, and its first records are the ones kept. The
//! kept records are checked by type, and dropped when the passes end.

use std::{any::Any, cell::RefCell, fmt, marker::PhantomData};

use serde::{
    Deserializer,
    de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor},
};

use super::{Lenient, is_strict, strictly};

thread_local! {
    /// Inside [`two_pass`]: `Some`, holding what the strict pass kept (if anything).
    static KEPT: RefCell<Option<Option<Box<dyn Any>>>> = const { RefCell::new(None) };
}

/// Runs `parse` strictly, and again leniently only if that fails, reusing the records a list
/// read by [`records_or_null`] had read before the failure.
pub(crate) fn two_pass<R, E>(parse: impl Fn() -> Result<R, E>) -> Result<R, E> {
    struct End(Option<Option<Box<dyn Any>>>);
    impl Drop for End {
        fn drop(&mut self) {
            KEPT.with(|kept| *kept.borrow_mut() = self.0.take());
        }
    }
    let _end = End(KEPT.with(|kept| kept.borrow_mut().replace(None)));
    strictly(&parse).or_else(|_| parse())
}

fn keep(records: Box<dyn Any>) {
    KEPT.with(|kept| {
        if let Some(slot) = kept.borrow_mut().as_mut() {
            *slot = Some(records);
        }
    });
}

fn take_kept<T: 'static>() -> Vec<Lenient<T>> {
    KEPT.with(|kept| {
        kept.borrow_mut()
            .as_mut()
            .and_then(Option::take)
            .and_then(|records| records.downcast::<Vec<Lenient<T>>>().ok())
            .map_or_else(Vec::new, |records| *records)
    })
}

/// A list of [`Lenient`] records that reads `null` as empty, as
/// [`list_or_null`](super::list_or_null) reads it, and that [`two_pass`] does not read twice.
///
/// # Errors
/// A value that is neither a list nor `null`, or the JSON parser's.
pub(crate) fn records_or_null<'de, D, T>(deserializer: D) -> Result<Vec<Lenient<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + 'static,
{
    deserializer.deserialize_option(Records(PhantomData))
}

struct Records<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned + 'static> Visitor<'de> for Records<T> {
    type Value = Vec<Lenient<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if is_strict() {
            let mut records = Vec::new();
            loop {
                match seq.next_element::<T>() {
                    Ok(Some(record)) => records.push(Lenient::Typed(record)),
                    Ok(None) => return Ok(records),
                    Err(error) => {
                        keep(Box::new(records));
                        return Err(error);
                    }
                }
            }
        }
        let mut records = take_kept::<T>();
        // The same body: the kept records are this list's first ones. Their text is skipped.
        for _ in 0..records.len() {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                // Not the same list after all: read it whole.
                return Err(serde::de::Error::custom(
                    "the list is shorter than in the first pass",
                ));
            }
        }
        while let Some(record) = seq.next_element::<Lenient<T>>()? {
            records.push(record);
        }
        Ok(records)
    }
}
