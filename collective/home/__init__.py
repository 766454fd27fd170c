"""A person's home across their collectives (/me): their week against their one weekly
capacity, their earnings per month in each collective in one currency, and their votes
waiting and open claims everywhere. It reads every domain and is read by none."""
