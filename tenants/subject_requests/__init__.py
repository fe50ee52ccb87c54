"""Data-subject requests: access, rectification, erasure, restriction, objection,
portability and withdrawal of consent, with deadlines from the rule table."""
