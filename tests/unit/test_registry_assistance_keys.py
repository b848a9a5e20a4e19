"""Registry assistance identities cover every engine assistance class (through the checkout map)."""

from yibao import codes
from yibao.checkout.model import ASSISTANCE_KEY
from yibao.policy.model import ASSISTANCE_CLASSES
from yibao.registry.model import ASSISTANCE_CLASSES as IDENTITY_TO_CLASS


def test_every_engine_class_has_an_identity_code() -> None:
    keys = {cls for cls, _ in IDENTITY_TO_CLASS.values()}
    assert keys <= set(ASSISTANCE_KEY)
    assert {ASSISTANCE_KEY[k] for k in keys} == set(ASSISTANCE_CLASSES)
    for code in IDENTITY_TO_CLASS:
        assert codes.is_valid("psn_idet_type", code)
