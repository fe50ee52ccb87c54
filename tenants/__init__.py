"""The domain: models, rules and services. Knows nothing of GraphQL or HTTP."""
