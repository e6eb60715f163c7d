//! Demo grants from the seeds, written through the command path like the rest of the demo data
//! (keyed, so a second run adds nothing):
//! - Roskilde (seed 002): the partnership pool of 750.000 kr. a year for 2021–2023, from which
//!   the seven sports associations each got a resource person 10–12 hours a week;
//! - Rødovre (seed 004): the §18 pool associations apply to twice a year (a round open now and
//!   the next), with decisions of every kind: in full, in part, refused, above the threshold
//!   with a second approver, and one reopened by a complaint and decided again; and the pool
//!   for new volunteers outside associations, where an informal group applies.

use chrono::{DateTime, Duration, Utc};
use samskab_api::commands::{Creates, execute, id_for_key};
use samskab_api::{AppState, Principal, Role};
use samskab_domain::grant_pool::ApplicantRef;
use samskab_domain::*;
use samskab_eventlog::EntityRef;

/// The demo's committee chair, deputy and case worker, as their events name them.
const CHAIR: &str = "user:seed-demo-formand";
const DEPUTY: &str = "user:seed-demo-naestformand";
const CASEWORKER: &str = "user:seed-demo";

fn e(error: InvalidValue) -> anyhow::Error {
    anyhow::anyhow!(error.0)
}

fn kr(kroner: i64) -> anyhow::Result<Amount> {
    Amount::from_ore(kroner * 100).map_err(e)
}

fn staff(actor: &str) -> anyhow::Result<StaffMember> {
    StaffMember::parse(actor).map_err(e)
}

struct Seeder<'a> {
    state: &'a AppState,
    tenant: TenantId,
    slug: &'static str,
    last_position: u64,
}

impl Seeder<'_> {
    fn principal(&self, actor: &str, role: Role) -> Principal {
        Principal {
            tenant: self.tenant.clone(),
            actor: actor.into(),
            roles: vec![role],
            party: None,
        }
    }

    /// Runs `command` on entity `kind`/`id` as `who` (an actor and their role).
    async fn run<D: Decider>(
        &mut self,
        (kind, id): (EntityKind, &dyn std::fmt::Display),
        key: String,
        (actor, role): (&str, Role),
        creates: Creates,
        command: D::Command,
    ) -> anyhow::Result<()> {
        let principal = self.principal(actor, role);
        let entity = EntityRef::new(self.slug, kind.as_str(), &id.to_string())?;
        let ctx = crate::seed::ctx(self.state, &principal, key.clone());
        let outcome = execute::<D>(ctx, &entity, creates, command)
            .await
            .map_err(|error| anyhow::anyhow!("{key}: {error}"))?;
        self.last_position = self.last_position.max(outcome.position);
        Ok(())
    }

    fn id(&self, kind: EntityKind, key: &str) -> uuid::Uuid {
        id_for_key(&self.tenant, kind, key)
    }

    async fn pool(&mut self, key: &str, details: PoolDetails) -> anyhow::Result<GrantPoolId> {
        let id = details.id;
        let key = format!("seed-demo/grant-pool/{}/{key}", self.slug);
        self.run::<GrantPool>(
            (EntityKind::GrantPool, &id),
            key,
            (CASEWORKER, Role::PoolAdministrator),
            Creates::New,
            GrantPoolCommand::Create(details),
        )
        .await?;
        Ok(id)
    }

    async fn on_pool(
        &mut self,
        pool: GrantPoolId,
        key: String,
        actor: &str,
        role: Role,
        command: GrantPoolCommand,
    ) -> anyhow::Result<()> {
        self.run::<GrantPool>(
            (EntityKind::GrantPool, &pool),
            key,
            (actor, role),
            Creates::Existing,
            command,
        )
        .await
    }

    /// An application drafted, submitted in `window` and assessed by the case worker,
    /// recommending `recommended`. What the pool is told of it.
    async fn assessed(
        &mut self,
        key: &str,
        draft: ApplicationDraft,
        criteria: &[Criterion],
        window: (Option<GrantRoundId>, grant_pool::SubmissionWindow),
        recommended: Amount,
    ) -> anyhow::Result<CaseFacts> {
        let id = draft.id;
        let key = format!("seed-demo/grant-application/{}/{key}", self.slug);
        let requested = draft.content.amount_requested;
        let period_to = draft.content.period_to;
        let (applicant, applicant_kind) = (draft.applicant(), draft.applicant_kind);
        let at = Utc::now();
        let scores = criteria
            .iter()
            .map(|c| CriterionScore {
                criterion: c.key.clone(),
                score: 4,
                note: None,
            })
            .collect();
        let steps = [
            (Creates::New, GrantApplicationCommand::Draft(draft)),
            (
                Creates::Existing,
                GrantApplicationCommand::Submit {
                    round: window.0,
                    window: window.1,
                    at,
                },
            ),
            (
                Creates::Existing,
                GrantApplicationCommand::Assess {
                    assessor: staff(CASEWORKER)?,
                    criteria: criteria.to_vec(),
                    scores,
                    recommended,
                    note: GrantText::parse_optional(Some("Godt forankret i foreningen"))
                        .map_err(e)?,
                    at,
                },
            ),
        ];
        for (i, (creates, command)) in steps.into_iter().enumerate() {
            self.run::<GrantApplication>(
                (EntityKind::GrantApplication, &id),
                format!("{key}/{i}"),
                (CASEWORKER, Role::Caseworker),
                creates,
                command,
            )
            .await?;
        }
        Ok(CaseFacts {
            application: id,
            version: 1,
            applicant,
            applicant_kind,
            requested,
            assessed_by: vec![staff(CASEWORKER)?],
            period_to,
        })
    }

    /// Decides `case` on `terms` as committee member `by`.
    async fn decide(
        &mut self,
        pool: GrantPoolId,
        key: String,
        case: CaseFacts,
        terms: DecisionTerms,
        by: &str,
    ) -> anyhow::Result<()> {
        let command = GrantPoolCommand::Decide {
            case,
            terms,
            by: staff(by)?,
            at: Utc::now(),
            today: calendar::danish_date(Utc::now()),
            overdue_elsewhere: None,
        };
        self.on_pool(pool, key, by, Role::CommitteeMember, command)
            .await
    }
}

/// A grant of one year: `outcome`, `amount` from `year`, with its justification.
fn terms(
    outcome: GrantOutcome,
    amount: Amount,
    year: i32,
    justification: Option<&str>,
) -> anyhow::Result<DecisionTerms> {
    Ok(DecisionTerms {
        outcome,
        amount,
        year,
        years: vec![],
        justification: Justification::parse_optional(justification).map_err(e)?,
        duties: None,
    })
}

fn content(title: &str, activities: &str, requested: Amount) -> anyhow::Result<ApplicationContent> {
    let today = calendar::danish_date(Utc::now());
    Ok(ApplicationContent {
        title: GrantTitle::parse(title).map_err(e)?,
        purpose: GrantText::parse("Flere frivillige og flere deltagere i lokalområdet")
            .map_err(e)?,
        activities: GrantText::parse(activities).map_err(e)?,
        target_group: GrantText::parse("Børn og unge i udsatte boligområder").map_err(e)?,
        period_from: today,
        period_to: today + Duration::days(365),
        amount_requested: requested,
        budget_lines: vec![BudgetLine {
            text: GrantTitle::parse("Løn og aktiviteter").map_err(e)?,
            amount: requested,
        }],
        expected_volunteers: 10,
        expected_participants: 60,
        co_funding: Amount::ZERO,
    })
}

fn criteria() -> anyhow::Result<Vec<Criterion>> {
    let c = |key: &str, title: &str, weight| -> anyhow::Result<Criterion> {
        Ok(Criterion {
            key: CriterionKey::parse(key).map_err(e)?,
            title: GrantTitle::parse(title).map_err(e)?,
            weight,
        })
    };
    Ok(vec![
        c("reach", "Når de borgere, indsatsen er til", 40)?,
        c("volunteers", "Engagerer frivillige", 40)?,
        c("anchoring", "Forankring efter bevillingen", 20)?,
    ])
}

/// The grant demo data of municipality `slug`, whose organisations' ids were derived from the
/// keys `seed-demo/organisation/<slug>/<i>`. Its last log position.
pub async fn seed(
    state: &AppState,
    slug: &'static str,
    organisations: &[&str],
) -> anyhow::Result<u64> {
    let mut s = Seeder {
        state,
        tenant: TenantId::parse(slug).map_err(e)?,
        slug,
        last_position: 0,
    };
    let organisation = |s: &Seeder, i: usize| {
        OrganisationId::from(s.id(
            EntityKind::Organisation,
            &format!("seed-demo/organisation/{slug}/{i}"),
        ))
    };
    match slug {
        "roskilde" => roskilde(&mut s, organisations, organisation).await?,
        "rodovre" => rodovre(&mut s, organisations, organisation).await?,
        _ => {}
    }
    Ok(s.last_position)
}

fn pool_details(
    s: &Seeder,
    key: &str,
    name: &str,
    kind: PoolKind,
    applicants: Vec<ApplicantKind>,
    second_approval_above: Amount,
) -> anyhow::Result<PoolDetails> {
    Ok(PoolDetails {
        id: GrantPoolId::from(s.id(
            EntityKind::GrantPool,
            &format!("seed-demo/grant-pool/{}/{key}", s.slug),
        )),
        name: GrantTitle::parse(name).map_err(e)?,
        legal_basis: LegalBasis::ServicelovenParagraph18,
        purpose: GrantText::parse(
            "Samarbejde med frivillige sociale foreninger og organisationer (serviceloven § 18)",
        )
        .map_err(e)?,
        kind,
        applicants,
        criteria: criteria()?,
        second_approval_above,
        audited_accounts_above: kr(20_000)?,
        initiative: GrantTitle::parse_optional(Some("Flere frivillige")).map_err(e)?,
        strategic_goal: GrantTitle::parse_optional(Some("Et stærkt civilsamfund")).map_err(e)?,
    })
}

async fn budget(
    s: &mut Seeder<'_>,
    pool: GrantPoolId,
    year: i32,
    amount: Amount,
) -> anyhow::Result<()> {
    let key = format!("seed-demo/grant-budget/{}/{pool}/{year}", s.slug);
    let command = GrantPoolCommand::ChangeBudget {
        year,
        amount,
        reason: Justification::parse("Vedtaget budget").map_err(e)?,
        by: staff(CASEWORKER)?,
        at: Utc::now(),
    };
    s.on_pool(pool, key, CASEWORKER, Role::PoolAdministrator, command)
        .await
}

fn association(
    s: &Seeder,
    pool: GrantPoolId,
    key: &str,
    organisation: OrganisationId,
    round: Option<GrantRoundId>,
    content: ApplicationContent,
) -> ApplicationDraft {
    ApplicationDraft {
        id: GrantApplicationId::from(s.id(
            EntityKind::GrantApplication,
            &format!("seed-demo/grant-application/{}/{key}", s.slug),
        )),
        pool,
        round,
        applicant_kind: ApplicantKind::Association,
        organisation: Some(organisation),
        group_name: None,
        content,
        personal: None,
    }
}

/// Seed 002: seven associations, each a resource person 10–12 hours a week, from 750.000 kr.
async fn roskilde(
    s: &mut Seeder<'_>,
    organisations: &[&str],
    organisation: impl Fn(&Seeder, usize) -> OrganisationId,
) -> anyhow::Result<()> {
    let details = pool_details(
        s,
        "partnerskab",
        "Partnerskabspuljen for foreningslivet 2021–2023",
        PoolKind::Partnership,
        vec![ApplicantKind::Association],
        kr(500_000)?,
    )?;
    let criteria = details.criteria.clone();
    let pool = s.pool("partnerskab", details).await?;
    for year in 2021..=2023 {
        budget(s, pool, year, kr(750_000)?).await?;
    }
    for (i, name) in organisations.iter().enumerate().take(7) {
        let draft = association(
            s,
            pool,
            &format!("partnerskab/{i}"),
            organisation(s, i),
            None,
            content(
                &format!("Ressourceperson i {name}"),
                "En ressourceperson 10-12 timer om ugen, der koordinerer de frivillige trænere \
                 og inviterer børn fra boligområderne ind i foreningen.",
                kr(107_000)?,
            )?,
        );
        let case = s
            .assessed(
                &format!("partnerskab/{i}"),
                draft,
                &criteria,
                (None, None),
                kr(107_000)?,
            )
            .await?;
        let key = format!("seed-demo/grant-decision/{}/partnerskab/{i}", s.slug);
        // Three years, 107.000 kr. each, reserved against each year's budget at once.
        let years = (2021..=2023)
            .map(|year| {
                Ok(YearlyAmount {
                    year,
                    amount: kr(107_000)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let agreement = DecisionTerms {
            outcome: GrantOutcome::Full,
            amount: kr(321_000)?,
            year: 2021,
            years,
            justification: None,
            duties: GrantText::parse_optional(Some(
                "En ressourceperson 10-12 timer om ugen, der koordinerer de frivillige.",
            ))
            .map_err(e)?,
        };
        s.decide(pool, key, case, agreement, CHAIR).await?;
    }
    Ok(())
}

/// A demo §18 case: the organisation (an index), its title, the amount applied for and
/// granted (kroner), the outcome and its justification.
type DemoCase = (
    usize,
    &'static str,
    i64,
    GrantOutcome,
    i64,
    Option<&'static str>,
);

/// Seed 004: the §18 pool with two rounds a year, and the pool for new volunteers.
async fn rodovre(
    s: &mut Seeder<'_>,
    organisations: &[&str],
    organisation: impl Fn(&Seeder, usize) -> OrganisationId,
) -> anyhow::Result<()> {
    let year = calendar::danish_date(Utc::now()).format("%Y").to_string();
    let year: i32 = year.parse()?;
    let details = pool_details(
        s,
        "paragraf-18",
        "§18-puljen",
        PoolKind::Rounds,
        vec![ApplicantKind::Association, ApplicantKind::InformalGroup],
        kr(100_000)?,
    )?;
    let criteria = details.criteria.clone();
    let pool = s.pool("paragraf-18", details).await?;
    budget(s, pool, year, kr(1_200_000)?).await?;
    // This half-year's round is open now; the next opens when it has been decided.
    let now = Utc::now();
    let rounds: [(&str, DateTime<Utc>, DateTime<Utc>); 2] = [
        (
            "Denne runde",
            now - Duration::days(30),
            now + Duration::days(30),
        ),
        (
            "Næste runde",
            now + Duration::days(150),
            now + Duration::days(210),
        ),
    ];
    let mut round_ids = Vec::new();
    for (i, (title, opens_at, deadline)) in rounds.into_iter().enumerate() {
        let round = GrantRoundId::from(s.id(
            EntityKind::GrantPool,
            &format!("seed-demo/grant-round/{}/{i}", s.slug),
        ));
        round_ids.push(round);
        let command = GrantPoolCommand::OpenRound {
            round,
            title: GrantTitle::parse(title).map_err(e)?,
            opens_at,
            deadline,
            decision_expected: calendar::danish_date(deadline + Duration::days(30)),
        };
        let key = format!("seed-demo/grant-round/{}/{i}", s.slug);
        s.on_pool(pool, key, CASEWORKER, Role::PoolAdministrator, command)
            .await?;
    }
    let window = (Some(round_ids[0]), Some((rounds[0].1, rounds[0].2)));
    let cases: [DemoCase; 5] = [
        (
            1,
            "Lektiehjælp til ukrainske børn",
            60_000,
            GrantOutcome::Full,
            60_000,
            None,
        ),
        (
            2,
            "Fællesspisning for ensomme ældre",
            80_000,
            GrantOutcome::Partial,
            50_000,
            Some("Puljen er søgt for mere, end den rummer; bevillingen dækker råvarerne."),
        ),
        (
            3,
            "Rådgivning af unge",
            90_000,
            GrantOutcome::Refused,
            0,
            Some("Aktiviteten er kommunens egen opgave og ligger uden for puljens formål."),
        ),
        (
            0,
            "Frivilligcentrets koordinator",
            150_000,
            GrantOutcome::Full,
            150_000,
            None,
        ),
        (
            4,
            "Venner viser vej",
            40_000,
            GrantOutcome::Refused,
            0,
            Some("Ansøgningen var ufuldstændig."),
        ),
    ];
    for (n, (i, title, requested, outcome, granted, why)) in cases.into_iter().enumerate() {
        let name = organisations.get(i).copied().unwrap_or("foreningen");
        let draft = association(
            s,
            pool,
            &format!("paragraf-18/{n}"),
            organisation(s, i),
            window.0,
            content(title, &format!("{name}: {title}"), kr(requested)?)?,
        );
        let case = s
            .assessed(
                &format!("paragraf-18/{n}"),
                draft,
                &criteria,
                window,
                kr(granted)?,
            )
            .await?;
        let application = case.application;
        let key = format!("seed-demo/grant-decision/{}/paragraf-18/{n}", s.slug);
        let decided = terms(outcome, kr(granted)?, year, why)?;
        s.decide(pool, key, case.clone(), decided, CHAIR).await?;
        if kr(granted)? > kr(100_000)? {
            // Above the threshold: the deputy approves.
            let command = GrantPoolCommand::Approve {
                application,
                by: staff(DEPUTY)?,
                at: Utc::now(),
            };
            let key = format!("seed-demo/grant-approval/{}/paragraf-18/{n}", s.slug);
            s.on_pool(pool, key, DEPUTY, Role::CommitteeMember, command)
                .await?;
        }
        if n == 4 {
            // Venner viser vej complains; the complaint reopens it and it is granted in part.
            let command = GrantPoolCommand::Reopen {
                application,
                reason: Justification::parse("Foreningen har sendt de manglende oplysninger")
                    .map_err(e)?,
                by: staff(CASEWORKER)?,
                at: Utc::now(),
            };
            let key = format!("seed-demo/grant-complaint/{}/paragraf-18/{n}", s.slug);
            s.on_pool(pool, key, CASEWORKER, Role::Caseworker, command)
                .await?;
            let key = format!("seed-demo/grant-decision/{}/paragraf-18/{n}/again", s.slug);
            let again = terms(
                GrantOutcome::Partial,
                kr(30_000)?,
                year,
                Some("Bevilget efter klage; transport er ikke omfattet."),
            )?;
            s.decide(pool, key, case, again, DEPUTY).await?;
        }
    }
    // The deputy sits on the board of headspace: declared, so they take no part in its cases.
    let command = GrantPoolCommand::DeclareConflict {
        member: staff(DEPUTY)?,
        applicant: ApplicantRef::Organisation(organisation(s, 3)),
        reason: Justification::parse_optional(Some("Bestyrelsesmedlem")).map_err(e)?,
        at: Utc::now(),
    };
    let key = format!("seed-demo/grant-conflict/{}/paragraf-18", s.slug);
    s.on_pool(pool, key, DEPUTY, Role::CommitteeMember, command)
        .await?;

    // The pool for new volunteers outside associations: an informal group applies.
    let details = pool_details(
        s,
        "nye-frivillige",
        "Puljen til nye frivillige",
        PoolKind::Rolling,
        vec![ApplicantKind::InformalGroup, ApplicantKind::Person],
        kr(50_000)?,
    )?;
    let pool = s.pool("nye-frivillige", details).await?;
    budget(s, pool, year, kr(100_000)?).await?;
    let id = GrantApplicationId::from(s.id(
        EntityKind::GrantApplication,
        "seed-demo/grant-application/rodovre/nye-frivillige/0",
    ));
    let draft = ApplicationDraft {
        id,
        pool,
        round: None,
        applicant_kind: ApplicantKind::InformalGroup,
        organisation: None,
        group_name: GrantTitle::parse_optional(Some("Strikkeklubben i Islev")).map_err(e)?,
        content: content(
            "Strik og snak",
            "Et ugentligt strikkecafé-møde på biblioteket for ensomme ældre.",
            kr(8_000)?,
        )?,
        personal: Some(ApplicantPersonalData {
            name: Name::parse("Birte Skov").map_err(e)?,
            contact: Contact::parse(
                Some(Email::parse("birte.skov@example.dk").map_err(e)?),
                None,
                None,
            )
            .ok(),
        }),
    };
    let case = s
        .assessed(
            "nye-frivillige/0",
            draft,
            &criteria,
            (None, None),
            kr(8_000)?,
        )
        .await?;
    let key = format!("seed-demo/grant-decision/{}/nye-frivillige/0", s.slug);
    let decided = terms(GrantOutcome::Full, kr(8_000)?, year, None)?;
    s.decide(pool, key, case, decided, CHAIR).await
}
