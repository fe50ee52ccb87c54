"""The webhook events Charter raises: the names tenants subscribe to."""

POLICY_PUBLISHED = "policy.published"
CONSENT_RECORDED = "consent.recorded"  # batched: one event per sweep, many consent events
REQUEST_CREATED = "subject_request.created"
REQUEST_UPDATED = "subject_request.updated"
REQUEST_DUE_SOON = "subject_request.due_soon"
BREACH_REPORTED = "breach.reported"
BREACH_UPDATED = "breach.updated"
BREACH_CLOCK_OVERDUE = "breach.clock_overdue"
BREACH_NOTICE = "breach.notice"  # a notice for a person Charter has no address for
POLICY_MATERIAL_CHANGE = "policy.material_change"  # likewise, for a material change

ALL = (
    POLICY_PUBLISHED,
    CONSENT_RECORDED,
    REQUEST_CREATED,
    REQUEST_UPDATED,
    REQUEST_DUE_SOON,
    BREACH_REPORTED,
    BREACH_UPDATED,
    BREACH_CLOCK_OVERDUE,
    BREACH_NOTICE,
    POLICY_MATERIAL_CHANGE,
)
