//! Demo data from the seeds: Rødovre, Roskilde and Syddjurs, the organisations their documents
//! name, needs from the seeds (Rotary's resource bank for young people at risk, seed 000;
//! Middelfart-style social mentors, 001; the retired craftsman, 003; Rødovre's homework help and
//! "Venner viser vej" families, 004), made-up volunteers, and grant pools and cases
//! (`seed_grants.rs`: Roskilde's partnerships, 002; Rødovre's §18 pools, 004). Written through the same command path as the API
//! (`samskab_api::commands::execute`), with idempotency keys, so running it twice adds nothing.

use anyhow::Context;
use chrono::Utc;
use samskab_api::commands::{CommandContext, Creates, execute, id_for_key};
use samskab_api::{AppState, Party, Principal, Role, TokenKeys};
use samskab_domain::*;
use samskab_eventlog::EntityRef;
use tracing::info;

use crate::cli::Connections;
use crate::config;

pub struct DemoMunicipality {
    pub slug: &'static str,
    pub kommunekode: u16,
    pub name: &'static str,
    pub postcodes: &'static [&'static str],
    pub organisations: &'static [(&'static str, &'static str, Option<&'static str>)],
    pub needs: &'static [DemoNeed],
    pub persons: &'static [DemoPerson],
}

/// A person a volunteer is paired with: a family of "Venner viser vej" (seed 004), a young
/// mentee of a social mentor (seed 001).
pub struct DemoPerson {
    /// The organisation (index into `organisations`) that looks after them; `None`: the
    /// municipality.
    pub by: Option<usize>,
    pub kind: PersonKind,
    pub name: &'static str,
    pub languages: &'static [&'static str],
    pub children_under_15: bool,
}

/// A need from the seeds, open from the day it is seeded until closed. Its skills are tags of
/// the demo volunteers' vocabulary ([`SKILLS`]), so that matching has someone to find.
pub struct DemoNeed {
    /// The organisation (an index into `organisations`) that posts it; `None`: the municipality.
    pub by: Option<usize>,
    pub title: &'static str,
    pub description: &'static str,
    pub skills_required: &'static [&'static str],
    pub skills_nice_to_have: &'static [&'static str],
    pub languages: &'static [&'static str],
    pub target_groups: &'static [TargetGroup],
    /// An index into the municipality's `postcodes`; `None`: remote.
    pub postcode: Option<usize>,
    pub slots: &'static [(Weekday, DayPart)],
    pub hours_per_week: u8,
    pub volunteers_wanted: u16,
    pub children_under_15: bool,
}

use DayPart::{Afternoon, Evening, Morning};
use Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};

pub const DEMO: &[DemoMunicipality] = &[
    DemoMunicipality {
        slug: "rodovre",
        kommunekode: 175,
        name: "Rødovre Kommune",
        postcodes: &["2610"],
        organisations: &[
            ("Rødovre Frivilligcenter", "association", Some("13748136")),
            ("Røde Kors Rødovre", "ngo", None),
            ("Folkekøkken Rødovre", "association", None),
            ("headspace Rødovre", "ngo", None),
            ("Venner viser vej", "informal_group", None),
        ],
        needs: &[
            DemoNeed {
                by: Some(1),
                title: "Lektiehjælp til ukrainske børn",
                description: "Røde Kors i Rødovre genstarter Lektiehjælpen: hjælp børn i \
                    1.-6. klasse med lektierne tirsdag aften i Rødovre Frivilligcenter. Det er \
                    en fordel, hvis du taler ukrainsk.",
                skills_required: &["lektiehjælp"],
                skills_nice_to_have: &["danskundervisning"],
                languages: &["da", "uk"],
                target_groups: &[TargetGroup::Children, TargetGroup::Refugees],
                postcode: Some(0),
                slots: &[(Tue, Evening)],
                hours_per_week: 2,
                volunteers_wanted: 3,
                children_under_15: true,
            },
            DemoNeed {
                by: Some(4),
                title: "Familieven til en ukrainsk familie",
                description: "Venner viser vej: en lokal familie og en familie på flugt fra \
                    Ukraine mødes et par gange om måneden, viser vej i hverdagen og laver \
                    noget sammen.",
                skills_required: &[],
                skills_nice_to_have: &["danskundervisning", "kørsel"],
                languages: &["da", "uk"],
                target_groups: &[TargetGroup::Families, TargetGroup::Refugees],
                postcode: Some(0),
                slots: &[(Sat, Afternoon), (Sun, Afternoon)],
                hours_per_week: 3,
                volunteers_wanted: 10,
                children_under_15: true,
            },
            DemoNeed {
                by: Some(4),
                title: "Aktivitetsleder til fællesspisning",
                description: "Venner viser vej søger en aktivitetsleder, der vil stå for \
                    fællesspisningen for ukrainske og danske familier torsdag aften.",
                skills_required: &["madlavning"],
                skills_nice_to_have: &["kørsel"],
                languages: &["da"],
                target_groups: &[TargetGroup::Families, TargetGroup::Refugees],
                postcode: Some(0),
                slots: &[(Thu, Evening)],
                hours_per_week: 3,
                volunteers_wanted: 1,
                children_under_15: false,
            },
            DemoNeed {
                by: None,
                title: "Mentor for en ung i risikozonen",
                description: "Ressourcebanken (efter Rotarys model): en voksen, der en gang \
                    om ugen hjælper en ung mellem 15 og 25 med skole, job og fritid.",
                skills_required: &["mentor"],
                skills_nice_to_have: &["it-hjælp"],
                languages: &["da"],
                target_groups: &[TargetGroup::YoungPeople],
                postcode: Some(0),
                slots: &[(Mon, Evening), (Thu, Evening)],
                hours_per_week: 2,
                volunteers_wanted: 5,
                children_under_15: false,
            },
        ],
        persons: &[
            DemoPerson {
                by: Some(4),
                kind: PersonKind::Family,
                name: "Familien Kovalenko",
                languages: &["uk", "ru"],
                children_under_15: true,
            },
            DemoPerson {
                by: None,
                kind: PersonKind::Mentee,
                name: "Jonas, 17 år",
                languages: &["da"],
                children_under_15: false,
            },
        ],
    },
    DemoMunicipality {
        slug: "roskilde",
        kommunekode: 265,
        name: "Roskilde Kommune",
        postcodes: &["4000", "4030", "4040"],
        organisations: &[
            ("AIR Roskilde Brydeklub", "association", None),
            ("KFUM's Boldklub Roskilde", "association", None),
            ("Roskilde Basketball Club (RBBC)", "association", None),
            ("Roskilde Boldklub af 1906", "association", None),
            ("Roskilde Håndbold", "association", None),
            ("Sønderlundskvarterets Idrætsforening", "association", None),
            (
                "Turning Tables Danmark – Roskilde afdelingen",
                "ngo",
                Some("24256790"),
            ),
            ("Roskilde Rotary Klub", "association", None),
        ],
        needs: &[
            DemoNeed {
                by: Some(1),
                title: "Fodboldtræner for U10",
                description: "KFUM's Boldklub Roskilde søger en træner til drengeholdet \
                    under 10 år, tirsdag og torsdag eftermiddag.",
                skills_required: &["fodboldtræner"],
                skills_nice_to_have: &[],
                languages: &["da"],
                target_groups: &[TargetGroup::Children],
                postcode: Some(0),
                slots: &[(Tue, Afternoon), (Thu, Afternoon)],
                hours_per_week: 3,
                volunteers_wanted: 2,
                children_under_15: true,
            },
            DemoNeed {
                by: None,
                title: "Social mentor for en ung ledig",
                description: "Som de frivillige sociale mentorer i Middelfart: følg en ung \
                    ledig på vej mod uddannelse eller job, i samarbejde med jobcentret.",
                skills_required: &["mentor"],
                skills_nice_to_have: &["bisidder"],
                languages: &["da"],
                target_groups: &[TargetGroup::YoungPeople],
                postcode: Some(1),
                slots: &[(Wed, Afternoon)],
                hours_per_week: 1,
                volunteers_wanted: 6,
                children_under_15: false,
            },
            // Rotary's resource bank (seed 000): members note their trade and what they have
            // (a workshop, a car), matched with local needs of children and young people at
            // risk.
            DemoNeed {
                by: Some(7),
                title: "Erhvervsguide for en ung i risikozonen",
                description: "Ressourcebanken i Roskilde Rotary Klub: en rotarianer bruger sit \
                    fag og sit netværk til at hjælpe en ung mellem 15 og 25 i risikozonen mod \
                    en læreplads, et fritidsjob eller en uddannelse.",
                skills_required: &["mentor"],
                skills_nice_to_have: &["it-hjælp", "tømrer"],
                languages: &["da"],
                target_groups: &[TargetGroup::YoungPeople],
                postcode: Some(0),
                slots: &[(Mon, Evening), (Wed, Afternoon)],
                hours_per_week: 2,
                volunteers_wanted: 4,
                children_under_15: false,
            },
            DemoNeed {
                by: Some(7),
                title: "Værkstedsdag for børn i risikozonen",
                description: "Ressourcebanken: en rotarianer med værksted lærer børn mellem 10 \
                    og 14 at bygge og reparere, lørdag formiddag sammen med klubbens \
                    samarbejdspartnere i lokalområdet.",
                skills_required: &["tømrer"],
                skills_nice_to_have: &["mentor"],
                languages: &["da"],
                target_groups: &[TargetGroup::Children, TargetGroup::YoungPeople],
                postcode: Some(2),
                slots: &[(Sat, Morning)],
                hours_per_week: 3,
                volunteers_wanted: 2,
                children_under_15: true,
            },
        ],
        persons: &[DemoPerson {
            by: None,
            kind: PersonKind::Mentee,
            name: "Mikkel, 19 år",
            languages: &["da"],
            children_under_15: false,
        }],
    },
    DemoMunicipality {
        slug: "syddjurs",
        kommunekode: 706,
        name: "Syddjurs Kommune",
        postcodes: &["8400", "8410", "8550"],
        organisations: &[
            ("Frivilligcenter Syddjurs", "association", None),
            ("Ebeltoft Lokalhistoriske Forening", "association", None),
            ("Rønde Idrætsforening", "association", None),
        ],
        needs: &[
            DemoNeed {
                by: Some(0),
                title: "Håndværker til små reparationer hos ældre",
                description: "Den pensionerede tømrer: små reparationer hos ældre, der ikke \
                    selv kan, formiddage efter aftale.",
                skills_required: &["tømrer"],
                skills_nice_to_have: &["kørsel"],
                languages: &["da"],
                target_groups: &[TargetGroup::Elderly],
                postcode: Some(0),
                slots: &[(Mon, Morning), (Wed, Morning)],
                hours_per_week: 2,
                volunteers_wanted: 3,
                children_under_15: false,
            },
            DemoNeed {
                by: None,
                title: "Telefonven til ensomme ældre",
                description: "Ring til en ældre borger, der sidder meget alene, to gange om \
                    ugen.",
                skills_required: &[],
                skills_nice_to_have: &["bisidder"],
                languages: &["da"],
                target_groups: &[TargetGroup::Lonely, TargetGroup::Elderly],
                postcode: None,
                slots: &[(Tue, Afternoon), (Fri, Afternoon)],
                hours_per_week: 1,
                volunteers_wanted: 5,
                children_under_15: false,
            },
        ],
        persons: &[DemoPerson {
            by: None,
            kind: PersonKind::Mentee,
            name: "Sara, 16 år",
            languages: &["da", "ar"],
            children_under_15: false,
        }],
    },
];

const FIRST: &[&str] = &[
    "Mette", "Søren", "Åse", "Jørgen", "Fatima", "Olena", "Mads", "Sofie", "Ahmad", "Birthe",
    "Kasper", "Ida",
];
const LAST: &[&str] = &[
    "Hansen",
    "Østergård",
    "Ærø",
    "Nielsen",
    "Jensen",
    "Kovalenko",
    "Pedersen",
    "Madsen",
    "Larsen",
    "Holm",
];
const SKILLS: &[&str] = &[
    "lektiehjælp",
    "madlavning",
    "tømrer",
    "it-hjælp",
    "fodboldtræner",
    "bisidder",
    "danskundervisning",
    "mentor",
    "kørsel",
    "havearbejde",
];
const RESOURCES: &[&str] = &[
    "bil",
    "værksted",
    "tid om aftenen",
    "stor have",
    "erfaring med unge",
];
const LANGUAGES: &[&str] = &["da", "en", "uk", "ar", "de"];

pub async fn seed_demo(connections: &Connections, volunteers: usize) -> anyhow::Result<()> {
    let log = config::connect_log(connections).await?;
    let pool = config::connect_pg(connections).await?;
    samskab_projection::MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations")?;
    // Seeding signs no tokens; a throwaway key satisfies the state's shape.
    let tokens = TokenKeys::from_secret(uuid::Uuid::new_v4().as_bytes());
    let state = AppState::new(
        log,
        pool,
        tokens,
        samskab_api::ApiConfig::default(),
        samskab::projections::read_models().into(),
    );
    let admin = Principal {
        tenant: TenantId::parse(samskab_api::auth::PLATFORM_TENANT).map_err(anyhow::Error::msg)?,
        actor: "user:seed-demo".into(),
        roles: vec![Role::PlatformAdmin],
        party: None,
    };
    let total = DEMO.len() * (1 + volunteers)
        + DEMO
            .iter()
            .map(|m| m.organisations.len() + m.needs.len() + m.persons.len())
            .sum::<usize>();
    let mut done = 0;
    let mut last_position = 0;
    // Rotary Danmark (seed 000): every municipality's first organisation is a member, and every
    // municipality shares its figures with it.
    let rotary = demo_umbrella()?;
    let outcome = execute::<Umbrella>(
        ctx(&state, &admin, "seed-demo/umbrella/rotary".into()),
        &EntityRef::new(
            samskab_api::auth::PLATFORM_TENANT,
            EntityKind::Umbrella.as_str(),
            &rotary.to_string(),
        )?,
        Creates::New,
        UmbrellaCommand::Register {
            id: rotary,
            name: Name::parse("Rotary Danmark").map_err(anyhow::Error::msg)?,
            parent: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering Rotary Danmark: {e}"))?;
    last_position = last_position.max(outcome.position);
    for m in DEMO {
        let tenant = TenantId::parse(m.slug).map_err(anyhow::Error::msg)?;
        let entity = EntityRef::new(m.slug, EntityKind::Municipality.as_str(), m.slug)?;
        let command = MunicipalityCommand::Register {
            tenant: tenant.clone(),
            kommunekode: Kommunekode::parse(m.kommunekode).map_err(anyhow::Error::msg)?,
            name: Name::parse(m.name).map_err(anyhow::Error::msg)?,
        };
        let key = format!("seed-demo/municipality/{}", m.slug);
        match execute::<Municipality>(ctx(&state, &admin, key), &entity, Creates::New, command)
            .await
        {
            Ok(outcome) => last_position = last_position.max(outcome.position),
            // Registered by an earlier run without the key (e.g. through the API): fine.
            Err(samskab_api::problem::ApiError::Conflict(_)) => {}
            Err(e) => return Err(anyhow::anyhow!("registering {}: {e}", m.slug)),
        }
        done += 1;

        let caseworker = Principal {
            tenant: tenant.clone(),
            actor: "user:seed-demo".into(),
            roles: vec![Role::Caseworker],
            party: None,
        };
        for (i, (name, kind, cvr)) in m.organisations.iter().enumerate() {
            // Keyed, so a second run of seed-demo addresses the same entity and the log answers
            // it with the first run's result (ids derived from the key, as the API does).
            let key = format!("seed-demo/organisation/{}/{i}", m.slug);
            let id = OrganisationId::from(id_for_key(&tenant, EntityKind::Organisation, &key));
            let entity =
                EntityRef::new(m.slug, EntityKind::Organisation.as_str(), &id.to_string())?;
            let command = OrganisationCommand::Register {
                id,
                name: Name::parse(name).map_err(anyhow::Error::msg)?,
                cvr: cvr
                    .map(Cvr::parse)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                kind: OrganisationKind::parse(kind).map_err(anyhow::Error::msg)?,
                contact: Contact::parse(
                    Some(
                        Email::parse(&format!("kontakt{i}@{}.example.dk", m.slug))
                            .map_err(anyhow::Error::msg)?,
                    ),
                    None,
                    None,
                )
                .map_err(anyhow::Error::msg)?,
            };
            let outcome = execute::<Organisation>(
                ctx(&state, &caseworker, key.clone()),
                &entity,
                Creates::New,
                command,
            )
            .await
            .map_err(|e| anyhow::anyhow!("registering {name}: {e}"))?;
            last_position = last_position.max(outcome.position);
            if i == 0 {
                let outcome = execute::<Organisation>(
                    ctx(&state, &caseworker, format!("{key}/umbrella")),
                    &entity,
                    Creates::Existing,
                    OrganisationCommand::SetUmbrella {
                        umbrella: Some(rotary),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{name} joining Rotary Danmark: {e}"))?;
                last_position = last_position.max(outcome.position);
            }
            done += 1;
        }
        let outcome = execute::<Municipality>(
            ctx(
                &state,
                &caseworker,
                format!("seed-demo/municipality/{}/umbrellas", m.slug),
            ),
            &entity,
            Creates::Existing,
            MunicipalityCommand::ShareWithUmbrellas {
                umbrellas: vec![rotary],
                at: Utc::now(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{} sharing with Rotary Danmark: {e}", m.slug))?;
        last_position = last_position.max(outcome.position);

        for (i, need) in m.needs.iter().enumerate() {
            let key = format!("seed-demo/need/{}/{i}", m.slug);
            let id = NeedId::from(id_for_key(&tenant, EntityKind::Need, &key));
            let entity = EntityRef::new(m.slug, EntityKind::Need.as_str(), &id.to_string())?;
            let command = demo_need(m, need, id)?;
            let outcome = execute::<Need>(
                ctx(&state, &caseworker, key),
                &entity,
                Creates::New,
                command,
            )
            .await
            .map_err(|e| anyhow::anyhow!("publishing {}: {e}", need.title))?;
            last_position = last_position.max(outcome.position);
            done += 1;
        }

        for (i, person) in m.persons.iter().enumerate() {
            let key = format!("seed-demo/person/{}/{i}", m.slug);
            let id = PersonId::from(id_for_key(&tenant, EntityKind::Person, &key));
            let entity = EntityRef::new(m.slug, EntityKind::Person.as_str(), &id.to_string())?;
            let command = demo_person(m, person, id)?;
            let outcome = execute::<Person>(
                ctx(&state, &caseworker, key),
                &entity,
                Creates::New,
                command,
            )
            .await
            .map_err(|e| anyhow::anyhow!("registering {}: {e}", person.name))?;
            last_position = last_position.max(outcome.position);
            done += 1;
        }

        for n in 0..volunteers {
            let key = format!("seed-demo/volunteer/{}/{n}", m.slug);
            let id = VolunteerId::from(id_for_key(&tenant, EntityKind::Volunteer, &key));
            let entity = EntityRef::new(m.slug, EntityKind::Volunteer.as_str(), &id.to_string())?;
            let command = demo_volunteer(m, n, id)?;
            let outcome = execute::<Volunteer>(
                ctx(&state, &caseworker, key),
                &entity,
                Creates::New,
                command,
            )
            .await
            .map_err(|e| anyhow::anyhow!("registering volunteer {n} of {}: {e}", m.slug))?;
            last_position = last_position.max(outcome.position);
            // Every demo volunteer may be matched; most also hear from the resource bank.
            let mut steps = vec![(
                "purposes".to_string(),
                VolunteerCommand::SetPurposes {
                    wanted: vec![
                        (Purpose::Matching, true),
                        (Purpose::Notifications, !n.is_multiple_of(4)),
                    ],
                    at: Utc::now(),
                },
            )];
            // Rødovre is registered before Roskilde (first in the list), so that Rødovre's
            // candidates show some from another municipality.
            if also_in_rodovre(m, n) {
                let rodovre = TenantId::parse("rodovre").map_err(anyhow::Error::msg)?;
                steps.push((
                    "municipalities".to_string(),
                    VolunteerCommand::SetOtherMunicipalities {
                        home: tenant.clone(),
                        municipalities: vec![rodovre],
                        at: Utc::now(),
                    },
                ));
            }
            // Who works with children has a børneattest, through the workflow: consent, the
            // municipality's request, and its approval for two years.
            if works_with_children(n) {
                for (step, command) in certificate_steps() {
                    steps.push((format!("certificate/{step}"), command));
                }
            }
            for (step, command) in steps {
                let key = format!("seed-demo/volunteer/{}/{n}/{step}", m.slug);
                let outcome = execute::<Volunteer>(
                    ctx(&state, &caseworker, key),
                    &entity,
                    Creates::Existing,
                    command,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{step} of volunteer {n} of {}: {e}", m.slug))?;
                last_position = last_position.max(outcome.position);
            }
            done += 1;
            if done % 25 == 0 || done == total {
                info!(done, total, municipality = m.slug, "seeding demo data");
            }
        }

        // Two matches on the first need without children: one under way with this month's
        // hours, one the volunteer asked for ("I'm interested"), awaiting the coordinator.
        if let Some(need_index) = m.needs.iter().position(|n| !n.children_under_15)
            && volunteers >= 3
        {
            let need = id_for_key(
                &tenant,
                EntityKind::Need,
                &format!("seed-demo/need/{}/{need_index}", m.slug),
            );
            let matches: [(usize, DemoMatch); 2] =
                [(1, demo_match_under_way), (2, demo_match_asked_for)];
            for (n, steps) in matches {
                let volunteer = id_for_key(
                    &tenant,
                    EntityKind::Volunteer,
                    &format!("seed-demo/volunteer/{}/{n}", m.slug),
                );
                let counterpart = Counterpart::Need(NeedId::from(need));
                let id = MatchId::from(samskab_api::routes::matches::pair_match_id(
                    m.slug,
                    counterpart,
                    volunteer,
                    0,
                ));
                let entity = EntityRef::new(m.slug, EntityKind::Match.as_str(), &id.to_string())?;
                let details = MatchDetails {
                    id,
                    volunteer_id: VolunteerId::from(volunteer),
                    counterpart,
                    proposed_by: if n == 1 {
                        ProposedBy::Coordinator
                    } else {
                        ProposedBy::Volunteer
                    },
                    note: None,
                    volunteer_municipality: None,
                };
                for (i, command) in steps(details).into_iter().enumerate() {
                    let key = format!("seed-demo/match/{}/{n}/{i}", m.slug);
                    let creates = if i == 0 {
                        Creates::New
                    } else {
                        Creates::Existing
                    };
                    let outcome =
                        execute::<Match>(ctx(&state, &caseworker, key), &entity, creates, command)
                            .await
                            .map_err(|e| anyhow::anyhow!("match {n} of {}: {e}", m.slug))?;
                    last_position = last_position.max(outcome.position);
                }
            }
        }

        // Each person paired with a volunteer, under way: one with a børneattest where the
        // person has children under 15 (volunteer 3), one without otherwise (volunteer 4).
        if volunteers >= 5 {
            for (i, person) in m.persons.iter().enumerate() {
                let n = if person.children_under_15 { 3 } else { 4 };
                debug_assert_eq!(works_with_children(n), person.children_under_15);
                let counterpart = Counterpart::Person(PersonId::from(id_for_key(
                    &tenant,
                    EntityKind::Person,
                    &format!("seed-demo/person/{}/{i}", m.slug),
                )));
                let volunteer = id_for_key(
                    &tenant,
                    EntityKind::Volunteer,
                    &format!("seed-demo/volunteer/{}/{n}", m.slug),
                );
                let id = MatchId::from(samskab_api::routes::matches::pair_match_id(
                    m.slug,
                    counterpart,
                    volunteer,
                    0,
                ));
                let entity = EntityRef::new(m.slug, EntityKind::Match.as_str(), &id.to_string())?;
                let details = MatchDetails {
                    id,
                    volunteer_id: VolunteerId::from(volunteer),
                    counterpart,
                    proposed_by: ProposedBy::Coordinator,
                    note: None,
                    volunteer_municipality: None,
                };
                for (step, command) in demo_match_under_way(details).into_iter().enumerate() {
                    let key = format!("seed-demo/person-match/{}/{i}/{step}", m.slug);
                    let creates = if step == 0 {
                        Creates::New
                    } else {
                        Creates::Existing
                    };
                    let outcome =
                        execute::<Match>(ctx(&state, &caseworker, key), &entity, creates, command)
                            .await
                            .map_err(|e| {
                                anyhow::anyhow!("pairing {} of {}: {e}", person.name, m.slug)
                            })?;
                    last_position = last_position.max(outcome.position);
                }
            }
        }
        // Grant pools and cases (Roskilde's partnerships, Rødovre's §18 pools).
        let names: Vec<&str> = m.organisations.iter().map(|(name, _, _)| *name).collect();
        let grants = crate::seed_grants::seed(&state, m.slug, &names).await?;
        last_position = last_position.max(grants);
    }
    info!(done, total, last_position, "demo data loaded");
    Ok(())
}

/// A demo match's commands, in order, from its details.
type DemoMatch = fn(MatchDetails) -> Vec<MatchCommand>;

/// A match proposed by the coordinator, accepted by the volunteer, started today, with 4 hours
/// logged this month.
fn demo_match_under_way(details: MatchDetails) -> Vec<MatchCommand> {
    let at = Utc::now();
    let today = samskab_domain::calendar::danish_date(at);
    let this_month = YearMonth::new(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
    );
    let mut steps = vec![
        MatchCommand::Propose { details, at },
        MatchCommand::Accept {
            side: MatchSide::Volunteer,
            at,
        },
        MatchCommand::Start { on: today, at },
    ];
    if let (Ok(period), Ok(minutes)) = (this_month, MonthlyMinutes::parse(240)) {
        steps.push(MatchCommand::LogHours {
            period,
            minutes,
            at,
        });
    }
    steps
}

/// A volunteer's "I'm interested", waiting for the coordinator.
fn demo_match_asked_for(details: MatchDetails) -> Vec<MatchCommand> {
    vec![MatchCommand::Propose {
        details,
        at: Utc::now(),
    }]
}

/// Every third demo volunteer works with children (and so has a børneattest).
/// Every tenth volunteer of Roskilde may also be matched in Rødovre (`SetOtherMunicipalities`).
fn also_in_rodovre(m: &DemoMunicipality, n: usize) -> bool {
    m.slug == "roskilde" && n % 10 == 3
}

fn works_with_children(n: usize) -> bool {
    n.is_multiple_of(3)
}

/// The børneattest workflow's steps for a demo volunteer, by the municipality: consent,
/// request, approval until two years from now.
fn certificate_steps() -> [(&'static str, VolunteerCommand); 3] {
    let now = Utc::now();
    let today = samskab_domain::calendar::danish_date(now);
    let requester = PostedBy::Municipality;
    [
        (
            "consent",
            VolunteerCommand::ConsentToCertificate { requester, at: now },
        ),
        (
            "request",
            VolunteerCommand::RequestCertificate { requester, at: now },
        ),
        (
            "assessment",
            VolunteerCommand::AssessCertificate {
                requester,
                approved: true,
                assessed_on: today,
                valid_until: today.checked_add_months(chrono::Months::new(24)),
                at: now,
            },
        ),
    ]
}

/// The command context of a seeded command: keyed, so a second run is answered by the first.
pub(crate) fn ctx<'a>(
    state: &'a AppState,
    principal: &'a Principal,
    key: String,
) -> CommandContext<'a> {
    CommandContext {
        state,
        principal,
        fingerprint: key.clone(),
        idempotency_key: Some(key),
    }
}

fn demo_person(
    m: &DemoMunicipality,
    person: &DemoPerson,
    id: PersonId,
) -> anyhow::Result<PersonCommand> {
    let e = anyhow::Error::msg;
    let tenant = TenantId::parse(m.slug).map_err(e)?;
    let registered_by = match person.by {
        None => PostedBy::Municipality,
        Some(i) => PostedBy::Organisation(OrganisationId::from(id_for_key(
            &tenant,
            EntityKind::Organisation,
            &format!("seed-demo/organisation/{}/{i}", m.slug),
        ))),
    };
    Ok(PersonCommand::Register {
        id,
        kind: person.kind,
        registered_by,
        postcode: Postcode::parse(m.postcodes[0]).map_err(e)?,
        languages: person
            .languages
            .iter()
            .map(|l| LanguageCode::parse(l))
            .collect::<Result<_, _>>()
            .map_err(e)?,
        children_under_15: person.children_under_15,
        personal: PersonPersonalData {
            name: Name::parse(person.name).map_err(e)?,
            contact: None,
        },
    })
}

fn demo_need(m: &DemoMunicipality, need: &DemoNeed, id: NeedId) -> anyhow::Result<NeedCommand> {
    let e = anyhow::Error::msg;
    let tenant = TenantId::parse(m.slug).map_err(e)?;
    let posted_by = match need.by {
        None => PostedBy::Municipality,
        Some(i) => PostedBy::Organisation(OrganisationId::from(id_for_key(
            &tenant,
            EntityKind::Organisation,
            &format!("seed-demo/organisation/{}/{i}", m.slug),
        ))),
    };
    let place = match need.postcode {
        None => NeedPlace::Remote,
        Some(i) => NeedPlace::AtPostcode(Postcode::parse(m.postcodes[i]).map_err(e)?),
    };
    let slots = need
        .slots
        .iter()
        .map(|&(weekday, part)| AvailabilitySlot { weekday, part });
    let now = Utc::now();
    Ok(NeedCommand::Publish {
        details: NeedDetails {
            id,
            posted_by,
            title: NeedTitle::parse(need.title).map_err(e)?,
            description: NeedDescription::parse(need.description).map_err(e)?,
            target_groups: need.target_groups.to_vec(),
            skills_required: Tag::parse_list(need.skills_required.iter().copied()).map_err(e)?,
            skills_nice_to_have: Tag::parse_list(need.skills_nice_to_have.iter().copied())
                .map_err(e)?,
            languages: need
                .languages
                .iter()
                .map(|l| LanguageCode::parse(l))
                .collect::<Result<_, _>>()
                .map_err(e)?,
            place,
            schedule: NeedSchedule::Weekly(
                Availability::parse(slots, need.hours_per_week).map_err(e)?,
            ),
            volunteers_wanted: VolunteersWanted::parse(need.volunteers_wanted).map_err(e)?,
            starts_on: samskab_domain::calendar::danish_date(now),
            ends_on: None,
            children_under_15: need.children_under_15,
        },
        at: now,
    })
}

fn demo_volunteer(
    m: &DemoMunicipality,
    n: usize,
    id: VolunteerId,
) -> anyhow::Result<VolunteerCommand> {
    let pick = |list: &[&'static str], k: usize| list[(n * 7 + k * 3) % list.len()];
    let e = anyhow::Error::msg;
    let name = format!("{} {}", pick(FIRST, 0), pick(LAST, 1));
    let birth_year = 1950 + (n * 13 % 55) as u16;
    let now = Utc::now();
    let age_band = AgeBand::from_birth_year(birth_year, chrono::Datelike::year(&now)).map_err(e)?;
    let mut slots = vec![AvailabilitySlot {
        weekday: Weekday::ALL[n % 7],
        part: DayPart::ALL[n % 3],
    }];
    // Thursday evenings in Rødovre, where Rødovre's fællesspisning needs an activity leader.
    if also_in_rodovre(m, n) {
        slots.push(AvailabilitySlot {
            weekday: Weekday::Thu,
            part: DayPart::Evening,
        });
    }
    let target_groups = if works_with_children(n) {
        vec![TargetGroup::Children, TargetGroup::YoungPeople]
    } else {
        vec![
            [
                TargetGroup::Elderly,
                TargetGroup::Refugees,
                TargetGroup::Families,
                TargetGroup::Lonely,
            ][n % 4],
        ]
    };
    let tenant = TenantId::parse(m.slug).map_err(e)?;
    let organisation = (!n.is_multiple_of(3) && !m.organisations.is_empty()).then(|| {
        OrganisationId::from(id_for_key(
            &tenant,
            EntityKind::Organisation,
            &format!(
                "seed-demo/organisation/{}/{}",
                m.slug,
                n % m.organisations.len()
            ),
        ))
    });
    Ok(VolunteerCommand::Register {
        id,
        personal: VolunteerPersonalData {
            name: Name::parse(&name).map_err(e)?,
            contact: Contact::parse(
                Some(Email::parse(&format!("frivillig{n}@{}.example.dk", m.slug)).map_err(e)?),
                None,
                None,
            )
            .map_err(e)?,
            birth_year: Some(birth_year),
        },
        profile: VolunteerProfile {
            postcode: Postcode::parse(m.postcodes[n % m.postcodes.len()]).map_err(e)?,
            age_band,
            skills: Tag::parse_list([pick(SKILLS, 2), pick(SKILLS, 5)]).map_err(e)?,
            resources: Tag::parse_list([pick(RESOURCES, 4)]).map_err(e)?,
            languages: vec![
                LanguageCode::parse("da").map_err(e)?,
                LanguageCode::parse(pick(LANGUAGES, 6)).map_err(e)?,
            ]
            .into_iter()
            .fold(Vec::new(), |mut v, l| {
                if !v.contains(&l) {
                    v.push(l);
                }
                v
            }),
            availability: Availability::parse(slots, (2 + n % 8) as u8).map_err(e)?,
            target_groups,
            // Set by the workflow after registering (`certificate_steps`).
            // Every fourth will travel further than the default; who also volunteers in
            // Rødovre travels there.
            max_travel_km: TravelKm::parse(if also_in_rodovre(m, n) { 40 } else { 30 })
                .ok()
                .filter(|_| n % 4 == 1 || also_in_rodovre(m, n)),
            // Two in three volunteer in one of the municipality's organisations (registered
            // before the volunteers), every third on their own ("ny frivillighed").
            organisation,
        },
        consent: Consent {
            purpose: ConsentPurpose::parse("Matchning med lokale frivilligopgaver").map_err(e)?,
            given_at: now,
        },
        at: now,
    })
}

/// Rotary Danmark's id, derived from its seed key (as the API derives ids from keys).
fn demo_umbrella() -> anyhow::Result<UmbrellaId> {
    let platform =
        TenantId::parse(samskab_api::auth::PLATFORM_TENANT).map_err(anyhow::Error::msg)?;
    Ok(UmbrellaId::from_uuid(id_for_key(
        &platform,
        EntityKind::Umbrella,
        "seed-demo/umbrella/rotary",
    )))
}

/// Demo tokens: one per demo municipality and role, and a platform administrator's.
pub fn print_tokens(keys: &TokenKeys, url: &str) -> anyhow::Result<()> {
    let valid = chrono::Duration::days(30);
    println!("\nsamskab is at {url}   (OpenAPI: {url}/openapi.json)");
    println!("Dashboards at {url}/dashboard (sign in with a caseworker's or auditor's token)\n");
    println!("Demo bearer tokens (valid 30 days):");
    let mut first_caseworker = None;
    for m in DEMO {
        let tenant = TenantId::parse(m.slug).map_err(anyhow::Error::msg)?;
        for role in [
            Role::Caseworker,
            Role::Auditor,
            Role::CommitteeMember,
            Role::PoolAdministrator,
        ] {
            let token = keys.sign(
                &tenant,
                &format!("demo-{}-{}", m.slug, role.as_str()),
                &[role],
                valid,
            )?;
            println!("  {:<10} {:<18} {token}", m.slug, role.as_str());
            if first_caseworker.is_none() && role == Role::Caseworker {
                first_caseworker = Some(token);
            }
        }
        // The first demo volunteer and organisation (their ids follow from seed-demo's keys).
        let parties = [
            Party::Volunteer(id_for_key(
                &tenant,
                EntityKind::Volunteer,
                &format!("seed-demo/volunteer/{}/0", m.slug),
            )),
            Party::Organisation(id_for_key(
                &tenant,
                EntityKind::Organisation,
                &format!("seed-demo/organisation/{}/0", m.slug),
            )),
        ];
        for party in parties {
            let role = party.role();
            let token = keys.sign_party(
                &tenant,
                &format!("demo-{}-{}", m.slug, role.as_str()),
                party,
                valid,
            )?;
            println!(
                "  {:<10} {:<12} {token}   ({})",
                m.slug,
                role.as_str(),
                party.id()
            );
        }
    }
    let platform =
        TenantId::parse(samskab_api::auth::PLATFORM_TENANT).map_err(anyhow::Error::msg)?;
    println!(
        "  {:<10} {:<12} {}",
        "platform",
        "admin",
        keys.sign(&platform, "demo-admin", &[Role::PlatformAdmin], valid)?
    );
    println!(
        "  {:<10} {:<12} {}",
        "platform",
        "operator",
        keys.sign(&platform, "demo-operator", &[Role::Operator], valid)?
    );
    let rotary = demo_umbrella()?;
    println!(
        "  {:<10} {:<12} {}   (Rotary Danmark, {rotary})",
        "platform",
        "umbrella",
        keys.sign_party(
            &platform,
            "demo-umbrella",
            Party::Umbrella(rotary.as_uuid()),
            valid
        )?
    );
    if let Some(token) = first_caseworker {
        println!("\nRegister a volunteer in Rødovre:\n");
        let body = r#"{"name":"Søren Ærø Østergård","email":"soren@example.dk","postcode":"2610","birth_year":1961,"skills":["lektiehjælp"],"languages":["da"],"availability":{"slots":[{"weekday":"tue","part":"evening"}],"hours_per_week":3},"target_groups":["elderly"],"consent":{"purpose":"Matchning med lokale frivilligopgaver"}}"#;
        println!(
            "  curl -s -X POST {url}/volunteers -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n    -d '{body}'\n"
        );
        println!(
            "Then list Rødovre's volunteers (pass the answer's position to see your own write):\n"
        );
        println!(
            "  curl -s '{url}/volunteers?min_position=<position>' -H 'Authorization: Bearer {token}'\n"
        );
    }
    Ok(())
}
