"""Use cases: each loads through the unit of work, calls the domain, commits, publishes."""
