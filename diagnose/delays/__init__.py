"""Delivery-delay analysis over the message feedback dataset (`diagnose delays`).

One analysis, written once (`analysis`), rendered per SQL dialect, run either in
process with DuckDB over local exports (`local`) or on a PostgreSQL-protocol
server such as Query Service (`server`). Only aggregates come back; `verdict`
decides, `render` and `plot` print. Nothing here is imported by `diagnose --help`.
"""
