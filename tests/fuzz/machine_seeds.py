#!/usr/bin/env python3
# Writes the seed corpus of fuzz_machine (tests/fuzz/corpus/machine/): a few
# dispute histories in the byte grammar fuzz_machine.c reads. Run by hand
# after changing that grammar or the order of the transitions in
# workflows/dispute.json; the fuzzer mutates these into stranger histories.
import os
import struct

# Event indices: fuzz_machine numbers the events in the order of the
# transitions of workflows/dispute.json, each name once.
EVENTS = ["investigate", "make_offer", "accept_offer", "reject_offer",
          "counter_offer", "expire_offer", "return_received", "refund_issued",
          "discount_issued", "shipment_sent", "delivery_confirmed",
          "reshipment_lost", "escalate", "resume", "withdraw",
          "reject_dispute"]
ROLES = ["agent", "storefront", "auditor", "admin", "system"]
KINDS = ["photo", "video", "chat_transcript", "email", "call_recording",
         "tracking_record", "carrier_report", "invoice", "inspection_report",
         "note", "other"]
CURRENCIES = ["USD", "JPY", "KWD", "EUR"]
REASONS = ["not_received", "damaged", "defective", "missing_parts",
           "not_as_described", "wrong_item", "late_delivery", "changed_mind",
           "other"]
FIELDS = ["offer_id", "amount", "payment_ref", "tracking_number", "reason",
          "type", "refund", "copay"]


def u32(v):
    return struct.pack("<I", v)


def dispute(currency="USD", reason="damaged", price=10000, cost=4000,
            shipping=1500, ship=3000, ret=2500):
    b = bytes([CURRENCIES.index(currency), REASONS.index(reason), 0, 0])
    return b + u32(price) + bytes([0]) + u32(cost) + u32(shipping) + \
        u32(ship) + u32(ret)


def event(name, role="agent", offer=None, amount=None, **present):
    """offer: index into the offers proposed now; amount: (how, value)."""
    given = 0
    tail = b""
    if offer is not None:
        given |= 1
        tail += bytes([1, offer])   # 1: the current version's list
    if amount is not None:
        given |= 2
        how, value = amount
        tail += bytes([how]) + (u32(value) if how % 4 == 0 else b"")
    for i, field in enumerate(FIELDS[2:5], start=2):
        if present.get(field):
            given |= 1 << i
            tail += bytes([7])
    return bytes([0, EVENTS.index(name), ROLES.index(role), given, 0]) + tail


def evidence(kind, role="agent"):
    return bytes([5, (KINDS.index(kind) << 1) | 1, ROLES.index(role)])


def later(seconds):
    return bytes([6]) + u32(seconds)


DAY = 86400
SEEDS = {
    "reshipment_delivered": dispute() + event("investigate") +
        event("make_offer", offer=0) + event("accept_offer", "storefront") +
        evidence("tracking_record") +
        event("shipment_sent", tracking_number=True) +
        event("delivery_confirmed", "storefront"),
    "discount_countered_and_paid": dispute() + event("investigate") +
        event("make_offer", offer=1) +
        event("counter_offer", "storefront", amount=(0, 1501)) +
        event("discount_issued", "storefront", payment_ref=True),
    "sla_escalation_expiry_rejection": dispute() + later(2 * DAY) +
        event("resume", "admin") + event("make_offer", offer=2) +
        later(6 * DAY) + event("reject_dispute", reason=True) +
        evidence("note") + event("reject_dispute", reason=True) +
        event("withdraw"),
    "return_then_refund": dispute(reason="changed_mind") +
        event("investigate") + event("make_offer", offer=0) +
        event("accept_offer", "storefront") + event("return_received") +
        evidence("inspection_report") + event("return_received") +
        event("refund_issued", "storefront", payment_ref=True),
    "counter_copay_above_replacement": dispute() + event("investigate") +
        event("make_offer", offer=0) +
        event("counter_offer", "storefront", amount=(0x91, 0)),
    "lost_reshipment_then_refund": dispute(currency="JPY",
                                           reason="not_received",
                                           price=12000, cost=5000,
                                           shipping=900, ship=1500,
                                           ret=0) +
        event("investigate") + event("make_offer", offer=0) +
        event("accept_offer") + evidence("tracking_record") +
        event("shipment_sent", tracking_number=True) +
        event("reshipment_lost") + event("make_offer", offer=1) +
        event("accept_offer", "storefront") +
        event("refund_issued", "storefront", payment_ref=True),
    "escalated_while_owed": dispute() + event("investigate") +
        event("make_offer", offer=1) + event("accept_offer") +
        event("escalate") + event("make_offer", offer=0) +
        event("accept_offer", "storefront") + later(4 * DAY),
}

# Crashers of the target, rewritten here so that they keep their meaning
# when the grammar changes (tests/fuzz/regressions/machine/).
REGRESSIONS = {
    # changed_mind, the buyer paying a return label dearer than the refund:
    # the refund after return is cut before it is costed
    "return_label_takes_whole_refund": dispute(reason="changed_mind",
                                               ret=61064) +
        event("investigate") + event("make_offer", offer=0),
}

top = os.path.dirname(os.path.abspath(__file__))
for folder, files in (("corpus", SEEDS), ("regressions", REGRESSIONS)):
    here = os.path.join(top, folder, "machine")
    os.makedirs(here, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
