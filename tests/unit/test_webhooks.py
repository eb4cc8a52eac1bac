"""The CRM webhook's pure parts: which ACD events make which delivery and what each says,
the signature a receiver checks, and the URLs a tenant may point it at."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from fsapps.acd.accounting import ended
from fsapps.acd.notifier import AgentStateChanged, MemberChanged, OfferMade
from fsapps.acd.visit_messages import VisitSummary
from fsapps.acd.visit_records import answered
from fsapps.webhooks import payload, target
from fsapps.webhooks.target import Refused, check_url

AT = 1_795_000_000.0
MEMBER = "9f1c0e52-1111-4c1e-8d0b-9f3e4f1d2a77"


def offer() -> OfferMade:
    variables = (("leg_timeout", "20"), ("origination_caller_id_number", "13800000031"),
                 ("origination_caller_id_name", "Ada"), ("fsapps_member", MEMBER), ("cn_plan", "gold"))
    return OfferMade("popco", "front", MEMBER, "pop_ann", "leg-1", variables, AT)  # fmt: skip


def test_an_offer_is_call_offered_with_the_callers_number_and_the_screen_pop_only() -> None:
    d = payload.delivery_of(offer())
    assert d is not None and (d.tenant, d.event) == ("popco", "call.offered")
    body = json.loads(payload.encode(d))
    assert body == {"id": d.id, "event": "call.offered", "tenant": "popco", "at": "2026-11-18T11:06:40+00:00",
                    "call": MEMBER, "queue": "front", "agent": "pop_ann", "number": "13800000031",
                    "name": "Ada", "screen_pop": {"cn_plan": "gold"}}  # fmt: skip
    assert payload.delivery_of(offer()).id == d.id  # the same delivery id on a retry


def test_answered_and_ended_carry_the_number_and_the_recordings_link() -> None:
    a = payload.delivery_of(MemberChanged("popco", "front", MEMBER, "answered", AT, agent="pop_ann",
                                          wait=12.5, number="13800000031"))  # fmt: skip
    assert a is not None and a.event == "call.answered"
    assert (a.body["number"], a.body["agent"], a.body["wait_seconds"]) == ("13800000031", "pop_ann", 12.5)
    summary = VisitSummary(tenant="popco", queue="front", call_uuid=MEMBER, caller="13800000031",
                           outcome="answered", joined=AT - 30, ended=AT + 60, agent="pop_ann", bridged=AT,
                           wrap_up=0.0, recording="/rec/popco/x.wav")  # fmt: skip
    event = ended(summary, 20)
    # The id is the one the visit's record is written under (GET .../recordings/{id}).
    record = next(r for r in answered(tenant="popco", queue="front", call_uuid=MEMBER, caller="13800000031",
                                      agent="pop_ann", joined=AT - 30, bridged=AT, ended=AT + 60,
                                      ring_seconds=1, offers=1, wrap_up=0, recording="/rec/popco/x.wav")
                  if type(r).__name__ == "QueueCall")  # fmt: skip
    assert (event.number, event.recording) == ("13800000031", record.event_id)
    e = payload.delivery_of(event, "https://cc.example.com/")
    assert e is not None and e.event == "call.ended"
    assert (e.body["outcome"], e.body["recording"], e.body["recording_url"]) == (
        "answered", record.event_id,
        f"https://cc.example.com/api/v1/tenants/popco/recordings/{record.event_id}/audio")  # fmt: skip
    unrecorded = ended(VisitSummary(tenant="popco", queue="front", call_uuid=MEMBER, caller="1",
                                    outcome="abandoned", joined=AT, ended=AT + 5), 20)  # fmt: skip
    e = payload.delivery_of(unrecorded)
    assert e is not None and (e.body["outcome"], e.body["recording_url"]) == ("abandoned", None)


def test_other_events_make_no_delivery() -> None:
    assert payload.delivery_of(AgentStateChanged("pop_ann", "Waiting", "Available", AT)) is None
    assert payload.delivery_of(MemberChanged("popco", "front", MEMBER, "joined", AT)) is None


def test_the_signature_is_the_bodys_under_the_secret_and_its_timestamp() -> None:
    d = payload.delivery_of(offer())
    assert d is not None
    body = payload.encode(d)
    h = payload.headers(d, "s" * 32, body, AT)
    sent = (h["X-Fsapps-Event"], h["X-Fsapps-Delivery"], h["X-Fsapps-Timestamp"])
    assert sent == ("call.offered", d.id, str(int(AT)))
    # Known answer: HMAC-SHA256("s"*32, "1795000000." + body), as any receiver computes it.
    want = hmac.new(b"s" * 32, b"1795000000." + body, hashlib.sha256).hexdigest()
    assert h["X-Fsapps-Signature"] == f"sha256={want}"
    assert payload.verify("s" * 32, h["X-Fsapps-Timestamp"], body, h["X-Fsapps-Signature"])
    assert not payload.verify("t" * 32, h["X-Fsapps-Timestamp"], body, h["X-Fsapps-Signature"])
    assert not payload.verify("s" * 32, h["X-Fsapps-Timestamp"], body + b" ", h["X-Fsapps-Signature"])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/x", "http://192.168.0.5/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/",
    "http://crm.localhost/", "http://LOCALHOST./",
])  # fmt: skip
def test_private_and_loopback_addresses_are_refused_unless_the_operator_allows_them(url: str) -> None:
    with pytest.raises(Refused, match="not allowed"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True).host


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://crm.example.com/", "only http"), ("file:///etc/passwd", "only http"), ("https:///x", "no host"),
    ("https://user:pw@crm.example.com/", "no user"), ("gopher://127.0.0.1/", "only http"),
])  # fmt: skip
def test_only_http_and_https_urls_with_a_host(url: str, why: str) -> None:
    with pytest.raises(Refused, match=why):
        check_url(url, allow_private=True)


def test_a_public_url_is_taken_apart_for_the_connection() -> None:
    t = check_url("https://crm.example.com/in/calls?src=fsapps", allow_private=False)
    assert (t.scheme, t.host, t.port, t.path) == ("https", "crm.example.com", 443, "/in/calls?src=fsapps")
    assert check_url("http://93.184.216.34:8080", allow_private=False).path == "/"


def test_the_addresses_resolved_are_checked_again_before_any_connection() -> None:
    # What a name resolves to is checked as it is resolved (here an address the resolver
    # gives back as it is: no DNS needed), and those addresses are the ones connected to.
    t = target.Target("http", "127.0.0.1", 80, "/")
    with pytest.raises(Refused, match="not a public address"):
        target.resolve(t, allow_private=False)
    assert target.resolve(t, allow_private=True) == ["127.0.0.1"]
    public = target.Target("http", "93.184.216.34", 80, "/")
    assert target.resolve(public, allow_private=False) == ["93.184.216.34"]
