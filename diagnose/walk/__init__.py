"""`diagnose runbook walk`: a guided walkthrough that proves each step, offers the documented fix, retests."""
