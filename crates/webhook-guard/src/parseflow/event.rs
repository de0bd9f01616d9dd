//! The ParseFlow event enum.

use super::payload::{BatchSummary, ExtractionCompleted, ExtractionFailed, QuotaUsage};
use crate::event::Undocumented;

envelope_events! {
    type_field: "event",
    /// Every event ParseFlow sends.
    ///
    /// ```
    /// use webhook_guard::parseflow::Event;
    ///
    /// let body = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{"used":800}}"#;
    /// let Event::QuotaWarning(warning) = Event::from_json(body)? else { panic!() };
    /// assert_eq!(warning.data.used, Some(800));
    /// assert_eq!(warning.data.raw.get(), r#"{"used":800}"#);
    /// # Ok::<(), webhook_guard::event::ParseError>(())
    /// ```
    pub enum Event {
        /// A document was extracted.
        ExtractionCompleted(ExtractionCompleted) => EXTRACTION_COMPLETED = "extraction.completed",
        /// A document could not be extracted (payload undocumented).
        ExtractionFailed(Undocumented<ExtractionFailed>) => EXTRACTION_FAILED = "extraction.failed",
        /// Every document of a batch was processed (payload undocumented).
        BatchCompleted(Undocumented<BatchSummary>) => BATCH_COMPLETED = "batch.completed",
        /// A batch failed (payload undocumented).
        BatchFailed(Undocumented<BatchSummary>) => BATCH_FAILED = "batch.failed",
        /// Usage reached 80% of the monthly quota (payload undocumented).
        QuotaWarning(Undocumented<QuotaUsage>) => QUOTA_WARNING = "quota.warning",
        /// The monthly quota is exceeded (payload undocumented).
        QuotaExceeded(Undocumented<QuotaUsage>) => QUOTA_EXCEEDED = "quota.exceeded",
    }
}
