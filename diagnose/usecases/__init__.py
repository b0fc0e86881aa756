"""The use cases: what each command does, below the CLI (which parses, calls one of these, renders, exits)."""
