//! ParseFlow payloads. Only `extraction.completed` is documented; the others are
//! [`Undocumented`](crate::event::Undocumented): typed optional fields plus the whole object.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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
    pub id: String,
    /// The extraction's state.
    pub status: ProcessingStatus,
    /// The kind of document recognized.
    pub document_type: DocumentType,
    /// How sure the extraction is, from 0 to 1.
    pub confidence: f64,
    /// The extracted document.
    pub data: ExtractedDocument,
    /// The file that was processed.
    pub metadata: FileMetadata,
    /// How long the extraction took, in milliseconds.
    pub processing_time_ms: u64,
}

/// The file behind an extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file's name.
    pub file_name: String,
    /// Its size in bytes.
    pub file_size: u64,
    /// Its MIME type.
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Invoice {
    /// The invoice number.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// The invoice date, as extracted from the document (for instance `2026-04-01`).
    #[serde(default)]
    pub invoice_date: Option<String>,
    /// The due date, as extracted.
    #[serde(default)]
    pub due_date: Option<String>,
    /// Who issued the invoice.
    #[serde(default)]
    pub vendor: Option<Vendor>,
    /// The lines.
    #[serde(default)]
    pub line_items: Option<Vec<LineItem>>,
    /// Every other extracted field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Who issued an invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vendor {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LineItem {
    /// What was sold.
    #[serde(default)]
    pub description: Option<String>,
    /// How many.
    #[serde(default)]
    pub quantity: Option<f64>,
    /// Price of one.
    #[serde(default)]
    pub unit_price: Option<f64>,
    /// Line total.
    #[serde(default)]
    pub amount: Option<f64>,
}

impl<'de> Deserialize<'de> for ExtractedDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.get("type").and_then(Value::as_str) == Some(DocumentType::Invoice.as_str()) {
            let mut invoice = Invoice::deserialize(value).map_err(serde::de::Error::custom)?;
            invoice.other.remove("type");
            Ok(Self::Invoice(invoice))
        } else {
            Ok(Self::Other(value))
        }
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
    #[serde(default)]
    pub id: Option<String>,
    /// The extraction's state.
    #[serde(default)]
    pub status: Option<ProcessingStatus>,
    /// What went wrong.
    #[serde(default)]
    pub error: Option<String>,
    /// The kind of document, if recognized.
    #[serde(default)]
    pub document_type: Option<DocumentType>,
    /// The file that was processed.
    #[serde(default)]
    pub metadata: Option<FileMetadata>,
    /// How long the attempt took, in milliseconds.
    #[serde(default)]
    pub processing_time_ms: Option<u64>,
}

/// The fields seen in `batch.completed` and `batch.failed`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchSummary {
    /// The batch's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The batch's state.
    #[serde(default)]
    pub status: Option<ProcessingStatus>,
    /// What went wrong, for a failed batch.
    #[serde(default)]
    pub error: Option<String>,
    /// Documents in the batch.
    #[serde(default)]
    pub total_documents: Option<u64>,
    /// Documents extracted.
    #[serde(default)]
    pub completed_documents: Option<u64>,
    /// Documents that failed.
    #[serde(default)]
    pub failed_documents: Option<u64>,
    /// How long the batch took, in milliseconds.
    #[serde(default)]
    pub processing_time_ms: Option<u64>,
}

/// The fields seen in `quota.warning` and `quota.exceeded`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QuotaUsage {
    /// Documents used this period.
    #[serde(default)]
    pub used: Option<u64>,
    /// The period's quota.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Usage as a percentage of the quota.
    #[serde(default)]
    pub percentage: Option<f64>,
}
