//! Who a person paired with a volunteer is.

string_enum! {
    /// The kinds of person a volunteer is paired with, besides a need (seeds 001 and 004).
    pub enum PersonKind {
        /// A young person with a mentor (a social mentor, a "ven").
        Mentee => "mentee",
        /// A family paired with a local family or volunteer (a refugee family in "Venner viser
        /// vej").
        Family => "family",
    }
}
