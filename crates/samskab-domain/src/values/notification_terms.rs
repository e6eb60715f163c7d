//! How a recipient wants to be told: in which language, and when mail goes.

string_enum! {
    /// The language a recipient's messages are written in. Danish first; English for the
    /// volunteers, families and associations who read it better (the municipality's templates
    /// may lack an English text: then the built-in one).
    pub enum MessageLanguage {
        Danish => "da",
        English => "en",
    }
}

string_enum! {
    /// When a recipient's mail goes: each message at once, or the day's messages gathered in
    /// one mail in the morning (the in-app inbox has each at once either way).
    pub enum MailCadence {
        Immediate => "immediate",
        DailyDigest => "daily_digest",
    }
}
