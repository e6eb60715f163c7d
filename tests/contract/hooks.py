"""Schemathesis hooks for samskab's contract test.

The OpenAPI document states every rule a JSON Schema can state. A few of samskab's rules are
not of that kind: they relate two fields by arithmetic, depend on the server's state, or are
a check digit. A schema-valid request may break them, and the API then rightly answers 4xx.

So that "schema-valid requests are accepted" (the positive_data_acceptance check) tests what
it means to, the positive cases that schemathesis generates are brought inside these rules
here, each one documented in the OpenAPI document's descriptions. Negative cases are never
touched: every one still has to be refused.
"""

import datetime
import json
import os
import urllib.request
import uuid

import schemathesis
from schemathesis import GenerationMode

# The newest log position a client could have been given: the one reached before the test
# started (set by contract.py), then every `position` the API answers with.
KNOWN_POSITION = int(os.environ.get("SAMSKAB_CONTRACT_POSITION", "0"))

CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def _valid_cvr(text):
    """The same 8 digits, but with the check digit (modulus 11) that makes them a CVR."""
    stripped = text.strip()
    if len(stripped) != 8 or not all(c in "0123456789" for c in stripped):
        return text  # not 8 digits: the schema refuses it already
    digits = [int(c) for c in stripped]
    for first in range(10):
        if first:
            digits[0] = (digits[0] + 1) % 10
        partial = sum(w * d for w, d in zip(CVR_WEIGHTS[:7], digits[:7]))
        check = (-partial) % 11
        if check < 10:
            digits[7] = check
            return text.replace(stripped, "".join(map(str, digits)))
    return "24256790"


def _age_band(birth_year):
    age = _danish_today().year - birth_year
    for band, upper in (("under_18", 17), ("18_29", 29), ("30_49", 49), ("50_66", 66)):
        if age <= upper:
            return band
    return "67_plus"


def _whole(value):
    """A whole number however it was generated: 7, 7.0 or, in a query string, "7"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _fix_body(body):
    if not isinstance(body, dict):
        return
    # A CVR number's check digit (format dk-cvr).
    if isinstance(body.get("cvr"), str):
        body["cvr"] = _valid_cvr(body["cvr"])
    # A birth year and an age band must agree.
    birth_year = _whole(body.get("birth_year"))
    if birth_year is not None and body.get("age_band") is not None:
        body["age_band"] = _age_band(birth_year)
    # Consent cannot have been given later than now.
    consent = body.get("consent")
    if isinstance(consent, dict) and isinstance(consent.get("given_at"), str):
        try:
            given_at = datetime.datetime.fromisoformat(consent["given_at"].replace("Z", "+00:00"))
            too_late = given_at.tzinfo and given_at > datetime.datetime.now(datetime.timezone.utc)
            if too_late or given_at.year < 1900:
                consent["given_at"] = "2020-01-01T00:00:00Z"
        except ValueError:
            pass  # a form Python does not read; the server's answer is checked as it is


def _fix_person(body):
    """A person registered for the municipality: a generated id is no registered organisation."""
    if isinstance(body, dict) and "languages" in body and "kind" in body:
        if body.get("organisation_id") is not None:
            body["organisation_id"] = None


def _fix_volunteer(body):
    """A volunteer in an organisation names one registered and active in the municipality: a
    generated id is none, so a valid case is a volunteer on their own."""
    if isinstance(body, dict) and "availability" in body and "postcode" in body:
        if body.get("organisation_id") is not None:
            body["organisation_id"] = None


def _fix_umbrellas(body):
    """An umbrella named (a district's parent, a membership, a municipality's sharing) must be
    registered: a generated id is none, so a valid case names none."""
    if not isinstance(body, dict):
        return
    if "umbrella_ids" in body and isinstance(body["umbrella_ids"], list):
        body["umbrella_ids"] = []
    for field in ("umbrella_id", "parent_id"):
        if body.get(field) is not None:
            body[field] = None


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None  # a form Python does not read; the server's answer is checked as it is


def _tag(text):
    return text.strip().lower()


def _fix_need(body):
    """A need's rules across fields and against today (see NeedInput's descriptions)."""
    if not isinstance(body, dict) or "volunteers_wanted" not in body:
        return
    today = _danish_today()
    latest = datetime.date(today.year + 10, 12, 31)
    # Posted by the municipality: a generated id is no registered organisation.
    if body.get("organisation_id") is not None:
        body["organisation_id"] = None
    starts = _date(body.get("starts_on"))
    if starts is not None and (starts.year < 1900 or starts > latest):
        starts = today
        body["starts_on"] = starts.isoformat()
    # Not before it starts, and (to be published) not over.
    earliest_end = max(starts or today, today)
    ends = _date(body.get("ends_on"))
    if ends is not None:
        ends = min(max(ends, earliest_end), latest)
        body["ends_on"] = ends.isoformat()
    once = _date(body.get("date"))
    if once is not None:
        once = min(max(once, earliest_end), ends or latest)
        body["date"] = once.isoformat()
    # A skill is required or nice to have, not both.
    required = body.get("skills_required")
    nice = body.get("skills_nice_to_have")
    if isinstance(required, list) and isinstance(nice, list):
        taken = {_tag(t) for t in required if isinstance(t, str)}
        body["skills_nice_to_have"] = [t for t in nice if not (isinstance(t, str) and _tag(t) in taken)]


def _fix_reopening(body):
    """A new last day is not before today (nor 10 years ahead)."""
    if not isinstance(body, dict) or set(body) != {"last_day"}:
        return
    day = _date(body.get("last_day"))
    today = _danish_today()
    if day is not None and (day < today or day.year > today.year + 10):
        body["last_day"] = today.isoformat()


def _fix_certificate(body):
    """A børneattest step names the municipality (a generated id is no registered
    organisation); an assessment is made today (not before its request, not in the future) and,
    when approved, must be renewed within 10 years (see CertificateAssessmentInput)."""
    if not isinstance(body, dict):
        return
    if set(body) == {"organisation_id"}:
        body["organisation_id"] = None
    if "result" in body and "assessed_on" in body:
        body["organisation_id"] = None
        today = _danish_today()
        body["assessed_on"] = today.isoformat()
        if body.get("result") == "approved":
            body["valid_until"] = (today + datetime.timedelta(days=365)).isoformat()
        else:
            body["valid_until"] = None


def _fix_municipalities(body):
    """A volunteer's other municipalities are registered on the installation and not their own
    (see OtherMunicipalitiesInput): generated keys name none, so the positive case is the empty
    list, which is always valid (matched in their own municipality only)."""
    if isinstance(body, dict) and set(body) == {"municipalities"}:
        body["municipalities"] = []


# Where the API is, and a case worker's token (set by contract.py), to make a pair that may be
# matched: the demo data's volunteers and needs are not safe for this, because the run itself
# withdraws consents and closes needs it finds through links.
API_URL = os.environ.get("SAMSKAB_CONTRACT_URL")
CASEWORKER = os.environ.get("SAMSKAB_CONTRACT_CASEWORKER")


def _post(path, body):
    request = urllib.request.Request(
        f"{API_URL}{path}",
        data=json.dumps(body).encode(),
        method="POST" if not path.endswith("/consents") else "PUT",
        headers={"Authorization": f"Bearer {CASEWORKER}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _fresh_pair():
    """A new volunteer who consented to matching, and a new open need without children under
    15 that they may be matched to: what a case worker has in hand when they propose."""
    slot = {"slots": [{"weekday": "tue", "part": "evening"}], "hours_per_week": 2}
    volunteer = _post("/volunteers", {
        "name": "Kontrakt Frivillig",
        "email": "kontrakt@example.dk",
        "postcode": "2610",
        "age_band": "30_49",
        "availability": slot,
        "consent": {"purpose": "Matchning med lokale frivilligopgaver"},
    })["id"]
    _post(f"/volunteers/{volunteer}/consents", {"matching": True, "contact": False, "notifications": False})
    need = _post("/needs", {
        "title": "Kontrakttest",
        "description": "Et behov til kontrakttesten.",
        "weekly": slot,
        "volunteers_wanted": 1,
        "starts_on": _danish_today().isoformat(),
        "children_under_15": False,
    })["id"]
    return volunteer, need


def _fresh_person():
    """A new person registered by the municipality, without children under 15."""
    return _post("/persons", {
        "kind": "mentee",
        "name": "Kontrakt Mentee",
        "postcode": "2610",
        "languages": ["da"],
        "children_under_15": False,
    })["id"]


def _fix_match(body):
    """A proposal names a volunteer and a need or a person that exist and may be matched; a match starts
    not before it was proposed (today, for one proposed during the run) and at most a year
    ahead; hours are logged for a month that has begun and not before the match started (see
    MatchProposalInput, StartInput and HoursInput)."""
    if not isinstance(body, dict):
        return
    # The fresh volunteer, and its need, are the caller's municipality's own.
    for elsewhere in ("volunteer_municipality", "need_municipality"):
        if elsewhere in body:
            body[elsewhere] = None
    if "volunteer_id" in body and API_URL and CASEWORKER:
        if body.get("person_id") is not None:
            body["volunteer_id"], _ = _fresh_pair()
            body["person_id"] = _fresh_person()
        elif "need_id" in body:
            body["volunteer_id"], body["need_id"] = _fresh_pair()
    if set(body) == {"on"}:
        body["on"] = _danish_today().isoformat()
    if set(body) == {"period", "minutes"}:
        body["period"] = _danish_today().strftime("%Y-%m")


POOL_ADMINISTRATOR = os.environ.get("SAMSKAB_CONTRACT_POOL_ADMINISTRATOR")
# The role whose token this schemathesis run sends (set by contract.py).
ROLE = os.environ.get("SAMSKAB_CONTRACT_ROLE", "")


def _call(method, path, token, body=None):
    request = urllib.request.Request(
        f"{API_URL}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _fix_pool(body):
    """A pool's criteria have keys of their own and weights that add up to 100 (see
    PoolInput)."""
    if not isinstance(body, dict) or "legal_basis" not in body:
        return
    criteria = body.get("criteria")
    if isinstance(criteria, list) and criteria and all(isinstance(c, dict) for c in criteria):
        base = 100 // len(criteria)
        for i, c in enumerate(criteria):
            c["key"] = f"c{i}"
            c["weight"] = base + (100 - base * len(criteria) if i == 0 else 0)


def _fix_round(body):
    """A round opens before its deadline, and its decision is expected after it; all in 2000
    to 2100 (see RoundInput). Open now, so that submissions are taken."""
    if not isinstance(body, dict) or "deadline" not in body or "opens_at" not in body:
        return
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    deadline = now + datetime.timedelta(days=30)
    body["opens_at"] = (now - datetime.timedelta(days=1)).isoformat()
    body["deadline"] = deadline.isoformat()
    body["decision_expected"] = (deadline + datetime.timedelta(days=10)).date().isoformat()


def _fix_content(content):
    """An application's content (see ApplicationContentInput): its period in order and in
    2000 to 2100, budget lines that add up to the amount applied for and the co-funding, and
    an applicant as the caller applies: an organisation's token as its association (no person,
    no group), a case worker for an informal group (its name and contact person)."""
    if not isinstance(content, dict) or "budget_lines" not in content:
        return
    start, end = _date(content.get("period_from")), _date(content.get("period_to"))
    if start is None or not 2000 <= start.year <= 2100:
        start = datetime.date(2026, 8, 1)
    if end is None or not 2000 <= end.year <= 2100 or end < start:
        end = start
    content["period_from"], content["period_to"] = start.isoformat(), end.isoformat()
    requested = _whole(content.get("amount_requested"))
    co_funding = _whole(content.get("co_funding"))
    lines = content.get("budget_lines")
    if requested is not None and co_funding is not None and isinstance(lines, list) and lines:
        if requested + co_funding > 1_000_000_000_000:
            content["co_funding"] = co_funding = 0
        first = lines[0] if isinstance(lines[0], dict) else {}
        content["budget_lines"] = [{"text": first.get("text", "Post"), "amount": requested + co_funding}]
    if ROLE == "organisation":
        for field in ("group_name", "applicant_name", "applicant_email", "applicant_phone"):
            content[field] = None
    else:
        content["group_name"] = "Kontraktgruppen"
        content["applicant_name"] = "Kontrakt Ansøger"


def _fresh_pool():
    """A new rolling pool that takes applications from anyone."""
    return _call("POST", "/grant-pools", POOL_ADMINISTRATOR, {
        "name": "Kontraktpuljen",
        "legal_basis": "serviceloven-18",
        "purpose": "Kontrakttesten",
        "kind": "rolling",
        "applicants": ["association", "informal_group", "person"],
        "criteria": [{"key": "reach", "title": "Rækkevidde", "weight": 100}],
        "second_approval_above": 0,
        "audited_accounts_above": 0,
    })["id"]


def _fix_application(body):
    """A new application names a pool that exists and takes the applicant (a fresh one), and
    no round (the pool has none)."""
    if not isinstance(body, dict) or "pool_id" not in body or "content" not in body:
        return
    if API_URL and POOL_ADMINISTRATOR:
        body["pool_id"] = _fresh_pool()
    body["round_id"] = None
    body["organisation_id"] = None
    body["applicant_kind"] = "association" if ROLE == "organisation" else "informal_group"
    _fix_content(body["content"])


def _fix_webhook_endpoint(case, body):
    """An endpoint is registered for an organisation that exists and is active (the log is
    asked: `municipality_or_organisation`); a caseworker's case names one made for it (a fresh
    one each time: the run deactivates organisations too), an organisation's token its own
    (anything else is its 403)."""
    if _operation_path(case) != "/webhook-endpoints" or not isinstance(body, dict):
        return
    if "organisation_id" not in body or os.environ.get("SAMSKAB_CONTRACT_ROLE") != "caseworker":
        return
    body["organisation_id"] = _post("/organisations", {
        "name": "Kontrakt Forening",
        "kind": "association",
        "email": "kontrakt@example.dk",
    })["id"]


def _operation_path(case):
    operation = getattr(case, "operation", None)
    return getattr(operation, "path", None) or getattr(case, "path", "") or ""


def _fix_conflict(case, body):
    """A conflict of interest names an organisation or an application, one of the two (see
    ConflictInput); the coverage phase sends bodies with neither."""
    if not isinstance(body, dict) or not _operation_path(case).endswith("/conflicts"):
        return
    if body.get("organisation_id") is None and body.get("application_id") is None:
        body["organisation_id"] = str(uuid.uuid4())
        body.pop("application_id", None)


def _fix_follow_up(case, body):
    """A payment is made on a past day, not after today (see PaymentInput); a final report
    of a grant above the pool's threshold has audited accounts (see FinalReportInput)."""
    if not isinstance(body, dict):
        return
    if {"amount", "paid_on", "reference"} <= set(body):
        day = _date(body.get("paid_on"))
        today = _danish_today()
        if day is None or day > today or day.year < 2000:
            body["paid_on"] = today.isoformat()
    if {"spent", "narrative", "audited"} <= set(body):
        body["audited"] = True


def _path_id(case):
    params = getattr(case, "path_parameters", None) or {}
    return params.get("id")


def _fix_assessment(case, body):
    """An assessment scores each criterion of the application's pool once and recommends at most
    what was applied for (0 here): the criteria are read from the pool."""
    if not isinstance(body, dict) or "scores" not in body or "recommended" not in body:
        return
    body["recommended"] = 0
    application = _path_id(case)
    if not (API_URL and CASEWORKER and application):
        return
    try:
        found = _call("GET", f"/grant-applications/{application}?min_position={KNOWN_POSITION}", CASEWORKER)
        pool = _call("GET", f"/grant-pools/{found['pool_id']}?min_position={KNOWN_POSITION}", CASEWORKER)
    except Exception:  # no such application: the server's 404 is checked as it is
        return
    body["scores"] = [{"criterion": c["key"], "score": 3, "note": None} for c in pool["criteria"]]


def _fix_decision(body):
    """A decision's amount fits its outcome and a refusal is justified (see DecisionInput): a
    refusal, which needs no budget."""
    if isinstance(body, dict) and {"outcome", "amount", "year"} <= set(body):
        body["outcome"] = "refused"
        body["amount"] = 0
        body["justification"] = "Afslået i kontrakttesten"
        body["years"] = []


def _danish_today():
    """The date in Denmark, which the server's date rules use (not the machine's)."""
    from zoneinfo import ZoneInfo

    return datetime.datetime.now(ZoneInfo("Europe/Copenhagen")).date()


# Applied right before each request, in every phase (examples, coverage, fuzzing, stateful).
@schemathesis.hook
def before_call(ctx, case, kwargs):
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    _fix_body(case.body)
    _fix_need(case.body)
    _fix_person(case.body)
    _fix_volunteer(case.body)
    _fix_umbrellas(case.body)
    _fix_reopening(case.body)
    _fix_match(case.body)
    _fix_certificate(case.body)
    _fix_municipalities(case.body)
    _fix_pool(case.body)
    _fix_round(case.body)
    _fix_application(case.body)
    if isinstance(case.body, dict) and "budget_lines" in case.body:
        _fix_content(case.body)
    _fix_assessment(case, case.body)
    _fix_decision(case.body)
    _fix_conflict(case, case.body)
    _fix_follow_up(case, case.body)
    _fix_webhook_endpoint(case, case.body)
    query = case.query or {}
    # `min_position` must not be beyond the log (the server says 400 at once).
    if isinstance(query.get("cvr"), str):
        query["cvr"] = _valid_cvr(query["cvr"])
    # A report's day is one from 1900 to ten years ahead (the schema has no date bounds).
    if isinstance(query.get("on"), str):
        try:
            day = datetime.date.fromisoformat(query["on"])
        except ValueError:
            day = None
        today = _danish_today()
        if day is None or not 1900 <= day.year <= today.year + 10:
            query["on"] = today.isoformat()
    # An audit export's instant is in 2000 to 2100 (see CaseAuditQuery).
    if isinstance(query.get("as_of"), str):
        try:
            as_of = datetime.datetime.fromisoformat(query["as_of"].replace("Z", "+00:00"))
            if not 2000 <= as_of.year <= 2100:
                query["as_of"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        except ValueError:
            pass  # a form Python does not read; the server's answer is checked as it is
    position = _whole(query.get("min_position"))
    if position is not None and position > KNOWN_POSITION:
        query["min_position"] = position % (KNOWN_POSITION + 1)
    # An Idempotency-Key reused for a different request is refused (422): that is its point.
    # Generated keys repeat ("0"), so each positive case gets a key of its own.
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            headers[name] = f"{headers[name][:150]}-{uuid.uuid4().hex}"


@schemathesis.hook
def after_call(ctx, case, response):
    global KNOWN_POSITION
    try:
        body = response.json()
    except Exception:  # not JSON: nothing to learn
        return
    if isinstance(body, dict) and isinstance(body.get("position"), int):
        KNOWN_POSITION = max(KNOWN_POSITION, body["position"])
