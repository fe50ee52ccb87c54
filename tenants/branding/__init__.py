"""What a tenant's visitors see of Charter: the consent banner and the privacy center.

The tenant's own look and words (colours, logo, texts per locale, its consent model) are
tenant data (``Tenant.branding``); Charter's default texts are a catalogue per locale
(``texts/``); how purposes group into categories a person understands, and which rights
the privacy center offers, are worked out here from the policy and the rule table.
"""
