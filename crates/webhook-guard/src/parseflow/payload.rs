//! ParseFlow payloads. Only `extraction.completed` is documented; the others are
//! [`Undocumented`](crate::event::Undocumented): typed optional fields plus the whole object.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{MapAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use crate::event::lenient::{self, Lenient};

wire_enum! {
    /// The state of an extraction or a batch.
    pub enum ProcessingStatus {
        /// Done.
        Completed => "completed",
        /// Failed.
        Failed => "failed",
    }
}

wire_enum! {
    /// The kind of document recognized. The list is not closed.
    pub enum DocumentType {
        /// An invoice; its data is an [`Invoice`].
        Invoice => "invoice",
    }
}

/// The `data` of `extraction.completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExtractionCompleted {
    /// The extraction's id, `ext_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub id: String,
    /// The extraction's state.
    pub status: ProcessingStatus,
    /// The kind of document recognized.
    pub document_type: DocumentType,
    /// How sure the extraction is, from 0 to 1.
    #[serde(deserialize_with = "lenient::number")]
    pub confidence: f64,
    /// The extracted document.
    pub data: ExtractedDocument,
    /// The file that was processed, kept raw with the reason if it does not fit.
    pub metadata: Lenient<FileMetadata>,
    /// How long the extraction took, in milliseconds.
    #[serde(deserialize_with = "lenient::number")]
    pub processing_time_ms: u64,
}

/// The file behind an extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file's name.
    #[serde(deserialize_with = "lenient::text")]
    pub file_name: String,
    /// Its size in bytes.
    #[serde(deserialize_with = "lenient::number")]
    pub file_size: u64,
    /// Its MIME type.
    #[serde(deserialize_with = "lenient::text")]
    pub mime_type: String,
}

/// An extracted document: typed when its `type` is one this version knows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExtractedDocument {
    /// `"type": "invoice"`.
    Invoice(Invoice),
    /// Any other kind of document, as JSON.
    Other(Value),
}

/// An extracted invoice. Fields beyond the documented ones are kept in
/// [`other`](Self::other).
///
/// Extracted values come from documents, so they vary: a number where a text was expected
/// (`"invoiceNumber": 10042`) reads as its text, a number sent as text (`"quantity": "10"`)
/// as the number; a field of another shape is absent here and kept in `other`; a line that
/// does not fit is kept raw in its place.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Invoice {
    /// The invoice number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// The invoice date, as extracted from the document (for instance `2026-04-01`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<String>,
    /// The due date, as extracted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Who issued the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Vendor>,
    /// The lines, each kept raw with the reason if it does not fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<Lenient<LineItem>>>,
    /// Every other extracted field, and a documented one of another shape.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Who issued an invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vendor {
    /// Name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub email: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LineItem {
    /// What was sold.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub description: Option<String>,
    /// How many.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub quantity: Option<f64>,
    /// Price of one.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub unit_price: Option<f64>,
    /// Line total.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub amount: Option<f64>,
}

impl<'de> Deserialize<'de> for ExtractedDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", default, borrow)]
            kind: Option<Cow<'a, str>>,
        }

        // Read once as text, then either as an invoice or as JSON.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let kind = serde_json::from_str::<Kind<'_>>(raw.get()).ok().and_then(|k| k.kind);
        let document = if kind.as_deref() == Some(DocumentType::Invoice.as_str()) {
            serde_json::from_str(raw.get()).map(Self::Invoice)
        } else {
            serde_json::from_str(raw.get()).map(Self::Other)
        };
        document.map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Invoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = Invoice;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an extracted invoice")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Invoice, A::Error> {
                let mut invoice = Invoice::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    // A documented field of another shape is kept with the others.
                    let value = match &*key {
                        "type" => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                        "invoiceNumber" => text(&mut invoice.invoice_number, map.next_value()?),
                        "invoiceDate" => text(&mut invoice.invoice_date, map.next_value()?),
                        "dueDate" => text(&mut invoice.due_date, map.next_value()?),
                        "vendor" => typed(&mut invoice.vendor, &map.next_value::<Box<RawValue>>()?)
                            .map_err(serde::de::Error::custom)?,
                        "lineItems" => {
                            typed(&mut invoice.line_items, &map.next_value::<Box<RawValue>>()?)
                                .map_err(serde::de::Error::custom)?
                        }
                        _ => Some(map.next_value::<Value>()?),
                    };
                    if let Some(value) = value {
                        invoice.other.insert(key.into_owned(), value);
                    }
                }
                Ok(invoice)
            }
        }

        /// Sets `slot` from a string or a number; any other value is handed back.
        fn text(slot: &mut Option<String>, value: Value) -> Option<Value> {
            match value {
                Value::String(text) => *slot = Some(text),
                Value::Number(number) => *slot = Some(number.to_string()),
                Value::Null => {}
                other => return Some(other),
            }
            None
        }

        /// Sets `slot` from `raw` if it fits; hands the value back if it does not (in a
        /// strict first pass: fails, see `event::lenient`).
        fn typed<T: serde::de::DeserializeOwned>(
            slot: &mut Option<T>,
            raw: &RawValue,
        ) -> Result<Option<Value>, serde_json::Error> {
            match serde_json::from_str::<Option<T>>(raw.get()) {
                Ok(value) => {
                    *slot = value;
                    Ok(None)
                }
                Err(error) if lenient::is_strict() => Err(error),
                Err(_) => serde_json::from_str(raw.get()).map(Some),
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

impl Serialize for ExtractedDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            #[serde(flatten)]
            invoice: &'a Invoice,
        }
        match self {
            Self::Invoice(invoice) => Tagged {
                kind: DocumentType::Invoice.as_str(),
                invoice,
            }
            .serialize(serializer),
            Self::Other(value) => value.serialize(serializer),
        }
    }
}

/// The fields seen in `extraction.failed`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExtractionFailed {
    /// The extraction's id.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// The extraction's state.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub status: Option<ProcessingStatus>,
    /// What went wrong.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub error: Option<String>,
    /// The kind of document, if recognized.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub document_type: Option<DocumentType>,
    /// The file that was processed.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub metadata: Option<FileMetadata>,
    /// How long the attempt took, in milliseconds.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub processing_time_ms: Option<u64>,
}

/// The fields seen in `batch.completed` and `batch.failed`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchSummary {
    /// The batch's id.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// The batch's state.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub status: Option<ProcessingStatus>,
    /// What went wrong, for a failed batch.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub error: Option<String>,
    /// Documents in the batch.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub total_documents: Option<u64>,
    /// Documents extracted.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub completed_documents: Option<u64>,
    /// Documents that failed.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub failed_documents: Option<u64>,
    /// How long the batch took, in milliseconds.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub processing_time_ms: Option<u64>,
}

/// The fields seen in `quota.warning` and `quota.exceeded`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QuotaUsage {
    /// Documents used this period.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub used: Option<u64>,
    /// The period's quota.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub limit: Option<u64>,
    /// Usage as a percentage of the quota.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub percentage: Option<f64>,
}
