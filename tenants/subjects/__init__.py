"""What Charter knows of a tenant's data subjects besides their consent: contacts."""
