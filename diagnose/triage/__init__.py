"""Evidence triage: scan logs, error bodies and HTTP responses for the catalogue's signatures.

inputs (open, decompress, decode) -> scanner (prefilter, records, signatures)
-> correlate (the 500 and what is behind it) -> explain (findings, diagnosis).
"""
