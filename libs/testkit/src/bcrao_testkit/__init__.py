"""Test helpers shared by the services' tests and the cross-service tests."""
