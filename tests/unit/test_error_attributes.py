"""Each error class declares what it carries (typed attributes, no ``**fields`` bag)."""

import inspect

import pytest

from mailport import errors


def test_an_undeclared_detail_is_refused() -> None:
    with pytest.raises(TypeError):
        errors.ValidationError("bad", colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        errors.NetworkError("down", resource="tenant")  # type: ignore[call-arg]


def test_declared_details_are_attributes() -> None:
    invalid = errors.ValidationError("too big", field="attachments", size=30, limit=25)
    assert (invalid.field, invalid.size, invalid.limit, invalid.stage) == ("attachments", 30, 25, None)
    pinned = errors.TLSError("pin", stage="smtp.tls", reason="pin_mismatch", certificate_sha256="ab", host="h")
    assert (pinned.stage, pinned.reason, pinned.certificate_sha256, pinned.host) == ("smtp.tls", "pin_mismatch",
                                                                                       "ab", "h")
    assert errors.HostNotAllowed("no", address="10.0.0.5", stage="http.connect").address == "10.0.0.5"
    assert errors.StorageError("away", transient=True).transient is True
    assert errors.TryLater("soon", retry_after=30).retry_after == 30
    assert errors.NotFound("gone", resource="tenant").resource == "tenant"


def test_no_error_class_takes_a_keyword_bag() -> None:
    """Subclasses of RemoteError pass on only the declared RemoteFields (``Unpack``)."""
    for name in errors.__all__:
        cls = getattr(errors, name)
        for parameter in inspect.signature(cls.__init__).parameters.values():
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                assert issubclass(cls, errors.RemoteError), name
                assert "RemoteFields" in str(parameter.annotation), name
