"""Thin Azure clients built from a profile: fetch, never judge. SDKs are imported inside functions."""
