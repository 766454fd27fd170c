"""The mutual benefits fund: plans, levels, contributions, claims, payouts, scheduled runs."""
