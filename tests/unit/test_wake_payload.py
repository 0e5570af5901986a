"""The payload of the workers' wake-up (``NOTIFY``): which job kinds became ready, for which tenants."""

from mailport.adapters.queue import read_wake_payload, wake_payload


def test_kinds_and_tenants_round_trip() -> None:
    payload = wake_payload([("send", "ten_b"), ("webhook", "ten_a"), ("send", "ten_a")])
    assert payload == "send,webhook;ten_a,ten_b"
    assert read_wake_payload(payload) == ({"send", "webhook"}, {"ten_a", "ten_b"})


def test_nothing_ready_wakes_nobody() -> None:
    assert wake_payload([]) is None


def test_a_job_without_a_tenant_or_many_tenants_say_any_tenant() -> None:
    assert read_wake_payload(wake_payload([("send", "ten_a"), ("prune", None)])) == ({"prune", "send"}, None)
    many = wake_payload([("send", f"ten_{n}") for n in range(17)])
    assert many == "send"
    assert read_wake_payload(many) == ({"send"}, None)
    assert read_wake_payload(wake_payload([("send", f"ten_{n}") for n in range(16)]))[1] is not None


def test_a_tenant_id_of_another_shape_is_left_out() -> None:
    # Workers read only the known shape: a tenant id of another one is not named.
    assert wake_payload([("send", "ten_a'); DROP TABLE jobs; --")]) == "send"
    assert wake_payload([("Send Now", "ten_a")]) == ""  # an odd kind: every lane, any tenant


def test_an_empty_or_foreign_payload_wakes_every_lane() -> None:
    assert read_wake_payload(None) == (None, None)
    assert read_wake_payload("") == (None, None)
    assert read_wake_payload("hello world") == (None, None)
