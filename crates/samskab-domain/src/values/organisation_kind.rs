//! What kind of body an organisation is.

string_enum! {
    /// The legal shape of an organisation; it decides whether a CVR number is required.
    pub enum OrganisationKind {
        /// A forening.
        Association => "association",
        Ngo => "ngo",
        PublicBody => "public_body",
        Company => "company",
        /// A group of people without a legal entity; §18 grants can go to them, and they have
        /// no CVR number.
        InformalGroup => "informal_group",
    }
}

impl OrganisationKind {
    /// Companies and public bodies are always registered in CVR; associations may or may not
    /// be, informal groups never are.
    pub fn requires_cvr(&self) -> bool {
        matches!(
            self,
            OrganisationKind::Company | OrganisationKind::PublicBody
        )
    }
}
