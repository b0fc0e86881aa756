"""Campaign cURL requests and payloads: parse them, check them, send one safe test call.

The pure API for other commands (`diagnose run`, the runbook walk's retest):

- `parse_input(text, base_dir=None) -> ParsedRequest` (a cURL command or a bare
  JSON payload; `parse_curl` / `parse_json` for one form); raises
  `PayloadSyntaxError` with line and column.
- `check(parsed, campaign=None, now=None, *, kind=None, ledger=None, profile=None)
  -> list[Finding]`: the execution API's rules, and the campaign's when given.
- `campaign_kind(definition)` and `window_problem(definition, now)` live in
  `diagnose.adobe.campaign` (re-exported here): one rule for every command.
- `to_curl(url, payload, dialect)`: a ticket-safe cURL (secrets as variables).
"""

from diagnose.adobe.campaign import campaign_kind, window_problem
from diagnose.payload.build import to_curl
from diagnose.payload.check import check
from diagnose.payload.curl import PayloadSyntaxError, parse_curl, parse_input, parse_json
from diagnose.payload.ledger import Ledger
from diagnose.payload.request import ParsedRequest

__all__ = [
    "Ledger",
    "ParsedRequest",
    "PayloadSyntaxError",
    "campaign_kind",
    "check",
    "parse_curl",
    "parse_input",
    "parse_json",
    "to_curl",
    "window_problem",
]
