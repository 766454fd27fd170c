"""People, collectives, memberships and roles; sign-in, invitations and profiles."""
