"""The PII filter masks personal-looking values; redact() is stable and non-reversible."""

from __future__ import annotations

import logging

from veid.logs import get_logger, redact


def test_redact_is_stable_and_hides_value() -> None:
    assert redact("ERIKSSON") == redact("ERIKSSON")
    assert redact("ERIKSSON") != redact("ANNA")
    assert "ERIKSSON" not in redact("ERIKSSON")


def test_filter_masks_mrz_ids_and_dates(caplog) -> None:
    logger = get_logger("test")
    with caplog.at_level(logging.INFO, logger="veid.test"):
        logger.info("read %s born %s id %s", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "1974-08-12", "123456789")
    text = caplog.text
    assert "ERIKSSON" not in text and "1974-08-12" not in text and "123456789" not in text
    assert text.count("<pii:") == 3
