//! The person and company profile FullEnrich attaches to records. Any field may be absent or
//! null.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A person's profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Person {
    /// FullEnrich's id for the person.
    #[serde(default)]
    pub id: Option<String>,
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Profile headline.
    #[serde(default)]
    pub headline: Option<String>,
    /// Profile summary.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the person lives.
    #[serde(default)]
    pub location: Option<Location>,
    /// Social network profiles.
    #[serde(default)]
    pub social_profiles: Option<SocialProfiles>,
    /// Schools.
    #[serde(default)]
    pub educations: Option<Vec<Education>>,
    /// Languages spoken.
    #[serde(default)]
    pub languages: Option<Vec<Language>>,
    /// Skills.
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// Current and past positions.
    #[serde(default)]
    pub employment: Option<Employment>,
}

/// A place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Country name.
    #[serde(default)]
    pub country: Option<String>,
    /// ISO country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Region or state.
    #[serde(default)]
    pub region: Option<String>,
}

/// Social network profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SocialProfiles {
    /// The professional network profile.
    #[serde(default)]
    pub professional_network: Option<NetworkProfile>,
}

/// A profile on a social network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkProfile {
    /// The network's id for the profile.
    #[serde(default)]
    pub id: Option<String>,
    /// The profile's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The profile's handle.
    #[serde(default)]
    pub handle: Option<String>,
    /// Number of connections.
    #[serde(default)]
    pub connection_count: Option<u64>,
}

/// A school attended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Education {
    /// The school.
    #[serde(default)]
    pub school_name: Option<String>,
    /// The degree.
    #[serde(default)]
    pub degree: Option<String>,
    /// Start, as sent (format undocumented, for instance `2008-09`).
    #[serde(default)]
    pub start_at: Option<String>,
    /// End, as sent.
    #[serde(default)]
    pub end_at: Option<String>,
}

/// A language spoken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Language {
    /// The language.
    #[serde(default)]
    pub language: Option<String>,
    /// How well.
    #[serde(default)]
    pub proficiency: Option<String>,
}

/// Current and past positions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Employment {
    /// The current position.
    #[serde(default)]
    pub current: Option<Position>,
    /// Every position.
    #[serde(default)]
    pub all: Option<Vec<Position>>,
}

/// A position at a company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Position {
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether the person still holds it.
    #[serde(default)]
    pub is_current: Option<bool>,
    /// Start, as sent (format undocumented).
    #[serde(default)]
    pub start_at: Option<String>,
    /// End, as sent.
    #[serde(default)]
    pub end_at: Option<String>,
    /// The employer.
    #[serde(default)]
    pub company: Option<Company>,
}

/// A company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Company {
    /// FullEnrich's id for the company.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Main domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Website URL.
    #[serde(default)]
    pub website: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Year founded.
    #[serde(default)]
    pub year_founded: Option<i32>,
    /// Number of employees.
    #[serde(default)]
    pub headcount: Option<u64>,
    /// Kind of company, for instance `Privately Held`.
    #[serde(default)]
    pub company_type: Option<String>,
    /// Headquarters and offices.
    #[serde(default)]
    pub locations: Option<CompanyLocations>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<Industry>,
    /// Social network profiles.
    #[serde(default)]
    pub social_profiles: Option<SocialProfiles>,
    /// Logo URL.
    #[serde(default)]
    pub logo_url: Option<String>,
}

/// A company's sites. Their shape is undocumented, so they are kept as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompanyLocations {
    /// Headquarters.
    #[serde(default)]
    pub headquarters: Option<Value>,
    /// Other offices.
    #[serde(default)]
    pub offices: Option<Vec<Value>>,
}

/// A company's industry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Industry {
    /// The main industry.
    #[serde(default)]
    pub main_industry: Option<String>,
}
