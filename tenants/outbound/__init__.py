"""Messages Charter owes people and tenants' systems: the transactional outbox."""
