"""The transactional outbox: every hub change writes its event in the same transaction."""
