"""Event hubs: tail the event log and fan events out to this node's live subscribers."""
