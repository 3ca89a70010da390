"""Helpers for tests that stand several services up together: the gateway over the real
draft-store in one process (`inprocess`), event and draft builders shared by the draft-store and
gateway suites (`factories`), and the catalogue of the three services' settings (`catalog`).

It sits above the services (it imports them); `bcrao_testkit` stays below them.
"""
