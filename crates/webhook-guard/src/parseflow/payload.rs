//! ParseFlow payloads. Only `extraction.completed` is documented; the others are
//! [`Undocumented`](crate::event::Undocumented): typed optional fields plus the whole object.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{MapAccess, Visitor},
};
use serde_json::{Map, Value};

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
        /// Reads the document in one pass: when `type` is its first field (as in every
        /// documented example), an invoice is read field by field straight into its model;
        /// otherwise the document is read as JSON and, if it says it is an invoice, the
        /// invoice is read from that tree (the body is not parsed again).
        struct Document;

        impl<'de> Visitor<'de> for Document {
            type Value = ExtractedDocument;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an extracted document")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExtractedDocument, A::Error> {
                let mut object = Map::new();
                let Some(first) = map.next_key::<Cow<'de, str>>()? else {
                    return Ok(ExtractedDocument::Other(Value::Object(object)));
                };
                if first == "type" {
                    let kind = map.next_value::<Value>()?;
                    if kind.as_str() == Some(DocumentType::Invoice.as_str()) {
                        return invoice_fields(map).map(ExtractedDocument::Invoice);
                    }
                    object.insert(first.into_owned(), kind);
                } else {
                    object.insert(first.into_owned(), map.next_value()?);
                }
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    object.insert(key, value);
                }
                let is_invoice = object.get("type").and_then(Value::as_str)
                    == Some(DocumentType::Invoice.as_str());
                let object = Value::Object(object);
                if is_invoice {
                    return Invoice::deserialize(object)
                        .map(ExtractedDocument::Invoice)
                        .map_err(serde::de::Error::custom);
                }
                Ok(ExtractedDocument::Other(object))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ExtractedDocument, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(ExtractedDocument::Other(Value::Array(items)))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::Bool(v)))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::from(v)))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::from(v)))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::from(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::from(v)))
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<ExtractedDocument, E> {
                Ok(ExtractedDocument::Other(Value::Null))
            }
        }

        deserializer.deserialize_any(Document)
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

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Invoice, A::Error> {
                invoice_fields(map)
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

/// Reads the fields of an invoice (a `type` among them is skipped).
fn invoice_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<Invoice, A::Error> {
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
            "vendor" => typed(&mut invoice.vendor, &mut map)?,
            "lineItems" => typed(&mut invoice.line_items, &mut map)?,
            _ => Some(map.next_value::<Value>()?),
        };
        if let Some(value) = value {
            invoice.other.insert(key.into_owned(), value);
        }
    }
    Ok(invoice)
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

/// Sets `slot` from the map's next value if it fits; hands the value back if it does not.
/// In a strict first pass (see `event::lenient`) the value is read straight into `T`, and a
/// value that does not fit fails the pass; in the lenient pass it is read once as JSON and
/// then into `T` from that tree.
fn typed<'de, T: serde::de::DeserializeOwned, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
) -> Result<Option<Value>, A::Error> {
    if lenient::is_strict() {
        *slot = map.next_value::<Option<T>>()?;
        return Ok(None);
    }
    let value = map.next_value::<Value>()?;
    match Option::<T>::deserialize(&value) {
        Ok(typed) => {
            *slot = typed;
            Ok(None)
        }
        Err(_) => Ok(Some(value)),
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
