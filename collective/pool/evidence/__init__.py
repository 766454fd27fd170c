"""Skills proven by delivered work: skill credits, peer endorsements and the opt-in public
profile. models (tables), credits (the credit rule), endorsements, profiles (the public
page's choices), queries (the read side: profiles and the evidence suggestions use)."""
