"""Use cases that touch storage, written once and called by every shell (CLI, API, pages).

A service function takes an engine (or a session), the owner and what it needs, and returns
core values or a typed outcome; it never renders, never reads the clock on its own, and never
raises a sentence for a shell to parse.
"""
