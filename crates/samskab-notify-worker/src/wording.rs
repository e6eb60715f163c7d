//! A message's words in each language a recipient may choose (`MessageLanguage`): the rules
//! write both, and the recipient's preference at the message's place in the log picks one.
//! Danish is what the municipalities write; English is for the volunteers, families and
//! associations who read it better.

use samskab_domain::MessageLanguage;

/// A subject and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub subject: String,
    pub body: String,
}

impl Text {
    pub fn new(subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            body: body.into(),
        }
    }
}

/// The same message in Danish and in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wording {
    pub danish: Text,
    pub english: Text,
}

impl Wording {
    /// Fixed words: (subject, body) in Danish, then in English.
    pub fn fixed(danish: (&str, &str), english: (&str, &str)) -> Self {
        Self {
            danish: Text::new(danish.0, danish.1),
            english: Text::new(english.0, english.1),
        }
    }

    pub fn in_language(&self, language: MessageLanguage) -> &Text {
        match language {
            MessageLanguage::Danish => &self.danish,
            MessageLanguage::English => &self.english,
        }
    }
}
