"""Nothing of the audit app is in the Django admin.

The access log is the auditor's (R-AUD-1): the system administrator, who runs the Django admin,
must not read who looked at whose data, and nobody may change it (R-AUD-2). The auditor's
screen is /audit/.
"""
