"""Tests for checker.conformance (a package so test module names stay unique)."""
