"""The embedded demo account: an in-process moto server seeded with a realistic account.

Needs the `demo` extra (moto with its server dependencies). This module itself imports nothing
heavy, so the app can show `WHO_DECIDES` without loading moto.
"""

# Said wherever the demo is shown: in the demo, the answers come from the project's evaluator.
WHO_DECIDES = (
    "Requests are authorized by s3cred-tui's policy evaluator following AWS's documented rules "
    "(moto alone would not enforce them)."
)
