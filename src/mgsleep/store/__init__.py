"""Storage: tables, migrations and repositories. The core never imports from here."""
