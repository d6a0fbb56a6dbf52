"""The web app and JSON API: thin shells over the same core functions as the CLI."""
