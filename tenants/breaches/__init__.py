"""Personal-data breaches: the record, the clocks the law starts, the notices owed."""
