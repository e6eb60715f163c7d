//! The one convention between the domain and the log: an event payload's member `personal`
//! holds the personal data of the entity's data subject. The log seals it before the event is
//! stored and opens it when the event is read; a forgotten subject's `personal` reads as `null`.
//!
//! Sealed, the member is `{"sealed": "xchacha20poly1305", "nonce": "<base64>", "ciphertext":
//! "<base64>"}`, bound by associated data to tenant, entity and event id.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::cipher::{DataKey, NONCE_BYTES, Sealed, Tampered};
use crate::vault::DataSubject;

/// The payload member that holds personal data.
pub const PERSONAL: &str = "personal";

const ALGORITHM: &str = "xchacha20poly1305";

/// The associated data of one event's personal data: it opens only in that event of that
/// subject, so a ciphertext copied into another event, entity or tenant does not decrypt.
pub fn associated_data(subject: &DataSubject, event_id: &str) -> Vec<u8> {
    format!("samskab.personal.v1|{subject}|{event_id}").into_bytes()
}

/// True when the payload holds personal data in plain text (to be sealed before it is stored).
pub fn has_plain_personal_data(payload: &Value) -> bool {
    matches!(payload.get(PERSONAL), Some(v) if !v.is_null() && !is_sealed(v))
}

/// True when the payload holds sealed personal data (to be opened when it is read).
pub fn has_sealed_personal_data(payload: &Value) -> bool {
    payload.get(PERSONAL).is_some_and(is_sealed)
}

/// True when `value` holds personal data anywhere, not only at the top: a non-null `personal`
/// member at any depth (a decision state nests its entity's payload parts).
pub fn holds_personal_data(value: &Value) -> bool {
    match value {
        Value::Object(members) => members.iter().any(|(name, member)| {
            (name == PERSONAL && !member.is_null()) || holds_personal_data(member)
        }),
        Value::Array(items) => items.iter().any(holds_personal_data),
        _ => false,
    }
}

fn is_sealed(member: &Value) -> bool {
    member.get("sealed").and_then(Value::as_str) == Some(ALGORITHM)
}

/// Replaces the payload's plain `personal` member by its sealed form. No change when there is
/// none.
pub fn seal(payload: &mut Value, key: &DataKey, aad: &[u8]) {
    if !has_plain_personal_data(payload) {
        return;
    }
    let Some(member) = payload.get_mut(PERSONAL) else {
        return;
    };
    let plaintext = member.to_string();
    let sealed = key.secret.seal(aad, plaintext.as_bytes());
    *member = json!({
        "sealed": ALGORITHM,
        "key": key.id,
        "nonce": STANDARD.encode(sealed.nonce),
        "ciphertext": STANDARD.encode(&sealed.ciphertext),
    });
}

/// Replaces the payload's sealed `personal` member by `null` without opening it: for a reader
/// that keeps no personal data of this payload's subject (it reads as a forgotten person's).
pub fn withhold(payload: &mut Value) {
    if has_sealed_personal_data(payload)
        && let Some(member) = payload.get_mut(PERSONAL)
    {
        *member = Value::Null;
    }
}

/// Replaces the payload's sealed `personal` member by the plain data, or by `null` when there
/// is no key, or the subject's key is a later one (the subject was forgotten). [`Tampered`] when it does not open with the key and
/// this event's associated data.
pub fn open(payload: &mut Value, key: Option<&DataKey>, aad: &[u8]) -> Result<(), Tampered> {
    if !has_sealed_personal_data(payload) {
        return Ok(());
    }
    let Some(member) = payload.get_mut(PERSONAL) else {
        return Ok(());
    };
    let sealed_with = member
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(key) = key.filter(|key| key.id == sealed_with) else {
        *member = Value::Null;
        return Ok(());
    };
    let field = |name: &str| {
        member
            .get(name)
            .and_then(Value::as_str)
            .and_then(|text| STANDARD.decode(text).ok())
            .ok_or(Tampered)
    };
    let nonce: [u8; NONCE_BYTES] = field("nonce")?.try_into().map_err(|_| Tampered)?;
    let ciphertext = field("ciphertext")?;
    let plaintext = key.secret.open(aad, &Sealed { nonce, ciphertext })?;
    *member = serde_json::from_slice(&plaintext).map_err(|_| Tampered)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> DataSubject {
        DataSubject::new("rodovre", "volunteer", "0190-ab").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sealed_personal_data_shows_no_plain_text_and_opens_back() {
        let key = DataKey::generate();
        let aad = associated_data(&subject(), "event-1");
        let original = json!({"id": "0190-ab", "personal": {"name": "Søren Kierkegaard"}, "profile": {"postcode": "2610"}});
        let mut payload = original.clone();
        seal(&mut payload, &key, &aad);
        let stored = payload.to_string();
        assert!(
            !stored.contains("Søren") && !stored.contains("Kierkegaard"),
            "{stored}"
        );
        assert!(
            stored.contains("2610"),
            "the profile stays readable: {stored}"
        );
        assert!(has_sealed_personal_data(&payload));

        let mut moved = payload.clone();
        assert_eq!(
            open(
                &mut moved,
                Some(&key),
                &associated_data(&subject(), "event-2")
            ),
            Err(Tampered)
        );
        open(&mut payload, Some(&key), &aad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(payload, original);
    }

    #[test]
    fn without_a_key_personal_data_reads_as_null() {
        let key = DataKey::generate();
        let aad = associated_data(&subject(), "event-1");
        let mut payload = json!({"personal": {"name": "Søren"}, "profile": {}});
        seal(&mut payload, &key, &aad);
        open(&mut payload, None, &aad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(payload, json!({"personal": null, "profile": {}}));
    }

    #[test]
    fn a_later_key_of_the_same_subject_reads_it_as_forgotten() {
        let aad = associated_data(&subject(), "event-1");
        let mut payload = json!({"personal": {"name": "Søren"}});
        seal(&mut payload, &DataKey::generate(), &aad);
        open(&mut payload, Some(&DataKey::generate()), &aad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(payload, json!({"personal": null}));
    }

    #[test]
    fn withheld_personal_data_reads_as_null_and_plain_data_is_left_alone() {
        let key = DataKey::generate();
        let aad = associated_data(&subject(), "event-1");
        let mut payload = json!({"personal": {"name": "Søren"}, "profile": {}});
        seal(&mut payload, &key, &aad);
        withhold(&mut payload);
        assert_eq!(payload, json!({"personal": null, "profile": {}}));

        let plain = json!({"personal": {"name": "Søren"}});
        let mut payload = plain.clone();
        withhold(&mut payload);
        assert_eq!(payload, plain, "only sealed data is withheld");
    }

    #[test]
    fn payloads_without_personal_data_are_left_alone() {
        let key = DataKey::generate();
        for original in [json!({"id": 1}), json!({"personal": null}), json!("text")] {
            let mut payload = original.clone();
            seal(&mut payload, &key, b"");
            assert_eq!(payload, original);
            open(&mut payload, Some(&key), b"").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(payload, original);
        }
    }
}
