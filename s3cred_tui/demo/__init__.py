"""The embedded demo account: an in-process moto server seeded with a realistic account.

Needs the `demo` extra (moto with its server dependencies).
"""
