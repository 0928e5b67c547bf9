"""Discord glue only: slash commands, review buttons, alerts. No logic lives here."""
