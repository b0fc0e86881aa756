"""Thin HTTP clients for Adobe IMS and Experience Platform (AJO, campaigns, BYOK). No verdicts."""
