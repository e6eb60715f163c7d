"""What a municipality's integrator does first, with a client generated from /openapi.json by
openapi-python-client (contract.py generates it into `samskab_client`):
register a volunteer, read it back (waiting for the command's position), and get a typed
problem, naming the field, for bad input.

Usage: client_flow.py URL CASEWORKER_TOKEN
"""

import sys
from uuid import UUID

from samskab_client import AuthenticatedClient
from samskab_client.api.volunteers import get_volunteer, register_volunteer
from samskab_client.models import (
    AvailabilityInput,
    CommandAccepted,
    ConsentInput,
    Problem,
    SlotInput,
    VolunteerRegistration,
    VolunteerView,
)
from samskab_client.models.slot_input_part import SlotInputPart
from samskab_client.models.slot_input_weekday import SlotInputWeekday


def expect(condition, message):
    if not condition:
        raise SystemExit(f"client flow: {message}")


def registration(postcode):
    return VolunteerRegistration(
        name="Oksana Kovalenko",
        email="oksana@example.dk",
        postcode=postcode,
        birth_year=1979,
        skills=["lektiehjælp"],
        languages=["uk", "da"],
        availability=AvailabilityInput(
            slots=[SlotInput(weekday=SlotInputWeekday.TUE, part=SlotInputPart.EVENING)],
            hours_per_week=3,
        ),
        consent=ConsentInput(purpose="Matchning med lokale frivilligopgaver"),
    )


def main(url, token):
    client = AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)

    created = register_volunteer.sync_detailed(client=client, body=registration("2610"))
    expect(created.status_code == 201, f"register answered {created.status_code}: {created.content!r}")
    accepted = created.parsed
    expect(isinstance(accepted, CommandAccepted), f"register parsed as {type(accepted).__name__}")

    read = get_volunteer.sync_detailed(
        id=UUID(accepted.id), client=client, min_position=accepted.position
    )
    expect(read.status_code == 200, f"read back answered {read.status_code}")
    volunteer = read.parsed
    expect(isinstance(volunteer, VolunteerView), f"read back parsed as {type(volunteer).__name__}")
    expect(volunteer.name == "Oksana Kovalenko", f"read back name {volunteer.name!r}")
    expect(volunteer.postcode == "2610", f"read back postcode {volunteer.postcode!r}")

    refused = register_volunteer.sync_detailed(client=client, body=registration("0123"))
    expect(refused.status_code in (400, 422), f"bad postcode answered {refused.status_code}")
    problem = refused.parsed
    expect(isinstance(problem, Problem), f"bad postcode parsed as {type(problem).__name__}")
    fields = [e.field for e in problem.errors] if problem.errors else []
    expect(fields == ["postcode"], f"the problem names {fields}, not postcode")
    print(
        f"client flow: registered {accepted.id} at position {accepted.position}, read it back, "
        f"and got a {problem.status} problem naming {fields[0]}"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
