"""Telling members what happened: an outbox of notifications delivered over WhatsApp (Cloud API, or a
wa.me tap by staff when there are no API keys) and always shown in the member's inbox in the app."""
