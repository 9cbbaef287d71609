"""The sweep: known secrets replaced wherever else they appear."""

from __future__ import annotations

from stickyforensics.sanitize.sweep import SecretSweep, token_like


def test_scrub_replaces_known_secrets_longest_first_and_encoded() -> None:
    sweep = SecretSweep()
    sweep.add("abcdef123456", "XXXXXX999999")
    sweep.add("abcdef1234567890", "YYYYYYYYYYYYYYYY")
    sweep.add("a+b/c=d123456", "q+r/s=t987654")
    text = "id=abcdef1234567890; old=abcdef123456 enc=a%2Bb%2Fc%3Dd123456"
    assert sweep.scrub(text) == "id=YYYYYYYYYYYYYYYY; old=XXXXXX999999 enc=q%2Br%2Fs%3Dt987654"
    assert sweep.scrub("nothing here at all") == "nothing here at all"


def test_short_values_are_not_swept() -> None:
    sweep = SecretSweep()
    sweep.add("en", "xy")
    assert len(sweep) == 0 and sweep.scrub("lang en") == "lang en"


def test_token_like() -> None:
    assert token_like("q5e55i0nIdInUrl9876")
    assert not token_like("application")
    assert not token_like("/owa/auth/12345")
    assert not token_like("abc 12345678")
