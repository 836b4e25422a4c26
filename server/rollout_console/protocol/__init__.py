"""The leaf of the package: phases, commands (with their outcomes and the command table) and events.

Everything else imports these names; this package imports only the standard library and pydantic, never
another part of ``rollout_console`` (the dependency test enforces it). No re-exports here, so modules can be
added without touching this file: import from ``rollout_console.protocol.<module>``.
"""
