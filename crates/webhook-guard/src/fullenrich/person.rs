//! The person and company profile FullEnrich attaches to records. Any field may be absent or
//! null, and one of another shape than documented reads as absent (the record's raw JSON is
//! in the delivery's body).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::lenient;

/// A person's profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Person {
    /// FullEnrich's id for the person.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// Full name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub full_name: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub last_name: Option<String>,
    /// Profile headline.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub headline: Option<String>,
    /// Profile summary.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub description: Option<String>,
    /// Where the person lives.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub location: Option<Location>,
    /// Social network profiles.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub social_profiles: Option<SocialProfiles>,
    /// Schools.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub educations: Option<Vec<Education>>,
    /// Languages spoken.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub languages: Option<Vec<Language>>,
    /// Skills.
    #[serde(default, deserialize_with = "lenient::texts_or_none")]
    pub skills: Option<Vec<String>>,
    /// Current and past positions.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub employment: Option<Employment>,
}

/// A place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Country name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub country: Option<String>,
    /// ISO country code.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub country_code: Option<String>,
    /// City.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub city: Option<String>,
    /// Region or state.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub region: Option<String>,
}

/// Social network profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SocialProfiles {
    /// The professional network profile.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub professional_network: Option<NetworkProfile>,
}

/// A profile on a social network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkProfile {
    /// The network's id for the profile.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// The profile's URL.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub url: Option<String>,
    /// The profile's handle.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub handle: Option<String>,
    /// Number of connections.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub connection_count: Option<u64>,
}

/// A school attended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Education {
    /// The school.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub school_name: Option<String>,
    /// The degree.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub degree: Option<String>,
    /// Start, as sent (format undocumented, for instance `2008-09`).
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub start_at: Option<String>,
    /// End, as sent.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub end_at: Option<String>,
}

/// A language spoken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Language {
    /// The language.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub language: Option<String>,
    /// How well.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub proficiency: Option<String>,
}

/// Current and past positions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Employment {
    /// The current position.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub current: Option<Position>,
    /// Every position.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub all: Option<Vec<Position>>,
}

/// A position at a company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Position {
    /// Job title.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub title: Option<String>,
    /// Whether the person still holds it.
    #[serde(default, deserialize_with = "lenient::flag_or_none")]
    pub is_current: Option<bool>,
    /// Start, as sent (format undocumented).
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub start_at: Option<String>,
    /// End, as sent.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub end_at: Option<String>,
    /// The employer.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub company: Option<Company>,
}

/// A company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Company {
    /// FullEnrich's id for the company.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub name: Option<String>,
    /// Main domain.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub domain: Option<String>,
    /// Website URL.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub website: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub description: Option<String>,
    /// Year founded.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub year_founded: Option<i32>,
    /// Number of employees.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub headcount: Option<u64>,
    /// Kind of company, for instance `Privately Held`.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub company_type: Option<String>,
    /// Headquarters and offices.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub locations: Option<CompanyLocations>,
    /// Industry.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub industry: Option<Industry>,
    /// Social network profiles.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub social_profiles: Option<SocialProfiles>,
    /// Logo URL.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub logo_url: Option<String>,
}

/// A company's sites. Their shape is undocumented, so they are kept as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompanyLocations {
    /// Headquarters.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub headquarters: Option<Value>,
    /// Other offices.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub offices: Option<Vec<Value>>,
}

/// A company's industry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Industry {
    /// The main industry.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub main_industry: Option<String>,
}
