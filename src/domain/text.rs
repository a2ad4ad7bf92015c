//! Multilingual text: one type for every field written in several languages.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Languages accord stores text in. Russian, Kazakh and English at least; the
/// other languages of the parties in the reference data besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Ru,
    Kk,
    Be,
    Hy,
    Ky,
    Tg,
    Tk,
    Uz,
}

impl Language {
    pub const ALL: [Language; 9] = [
        Language::En,
        Language::Ru,
        Language::Kk,
        Language::Be,
        Language::Hy,
        Language::Ky,
        Language::Tg,
        Language::Tk,
        Language::Uz,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
            Language::Kk => "kk",
            Language::Be => "be",
            Language::Hy => "hy",
            Language::Ky => "ky",
            Language::Tg => "tg",
            Language::Tk => "tk",
            Language::Uz => "uz",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn codes() -> String {
        Language::ALL.map(|l| l.code()).join(", ")
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Text in one or more languages. Never empty: at least one language has
/// non-blank text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<Language, String>",
    into = "BTreeMap<Language, String>"
)]
pub struct LocalizedText(BTreeMap<Language, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("has no text in any language")]
    Empty,
    #[error("`{0}` is not a supported language code (use one of: {codes})", codes = Language::codes())]
    UnknownLanguage(String),
    #[error("the {0} text is blank")]
    Blank(Language),
}

impl TryFrom<BTreeMap<Language, String>> for LocalizedText {
    type Error = TextError;
    fn try_from(map: BTreeMap<Language, String>) -> Result<Self, TextError> {
        LocalizedText::new(map)
    }
}

impl From<LocalizedText> for BTreeMap<Language, String> {
    fn from(t: LocalizedText) -> Self {
        t.0
    }
}

impl LocalizedText {
    pub fn new(map: BTreeMap<Language, String>) -> Result<Self, TextError> {
        if map.is_empty() {
            return Err(TextError::Empty);
        }
        for (lang, text) in &map {
            if text.trim().is_empty() {
                return Err(TextError::Blank(*lang));
            }
        }
        Ok(LocalizedText(map))
    }

    /// Builds from language codes as written by people (an import file, a request).
    pub fn from_codes<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, TextError> {
        let mut map = BTreeMap::new();
        for (code, text) in pairs {
            let lang = Language::parse(code)
                .ok_or_else(|| TextError::UnknownLanguage(code.to_string()))?;
            map.insert(lang, text.trim().to_string());
        }
        LocalizedText::new(map)
    }

    pub fn single(lang: Language, text: impl Into<String>) -> Result<Self, TextError> {
        LocalizedText::new(BTreeMap::from([(lang, text.into())]))
    }

    pub fn get(&self, lang: Language) -> Option<&str> {
        self.0.get(&lang).map(String::as_str)
    }

    /// The text to show a reader of `lang`: that language, then Russian (the
    /// working language of these commissions), then English, then any.
    pub fn display(&self, lang: Language) -> &str {
        self.get(lang)
            .or_else(|| self.get(Language::Ru))
            .or_else(|| self.get(Language::En))
            .or_else(|| self.0.values().next().map(String::as_str))
            .unwrap_or_default()
    }

    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.0.keys().copied()
    }

    pub fn to_json(&self) -> String {
        // A map of strings always serialises.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("stored text is not valid: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_falls_back_to_russian_then_english() {
        let t =
            LocalizedText::from_codes([("en", "Days of Culture"), ("ru", "Дни культуры")]).unwrap();
        assert_eq!(t.display(Language::Kk), "Дни культуры");
        assert_eq!(t.display(Language::En), "Days of Culture");
        let en_only = LocalizedText::from_codes([("en", "Tour")]).unwrap();
        assert_eq!(en_only.display(Language::Kk), "Tour");
        let kk_only = LocalizedText::from_codes([("kk", "Мәдениет күндері")]).unwrap();
        assert_eq!(kk_only.display(Language::En), "Мәдениет күндері");
    }

    #[test]
    fn empty_blank_and_unknown_languages_are_rejected() {
        assert_eq!(LocalizedText::new(BTreeMap::new()), Err(TextError::Empty));
        assert_eq!(
            LocalizedText::from_codes([("ru", "  ")]),
            Err(TextError::Blank(Language::Ru))
        );
        assert_eq!(
            LocalizedText::from_codes([("xx", "text")]),
            Err(TextError::UnknownLanguage("xx".into()))
        );
    }

    #[test]
    fn json_round_trip_keeps_every_language() {
        let t = LocalizedText::from_codes([
            ("kk", "Қазақстан"),
            ("ru", "Казахстан"),
            ("en", "Kazakhstan"),
        ])
        .unwrap();
        let json = t.to_json();
        assert_eq!(LocalizedText::from_json(&json).unwrap(), t);
        assert!(LocalizedText::from_json("{\"xx\":\"y\"}").is_err());
        assert!(LocalizedText::from_json("{}").is_err());
    }
}
