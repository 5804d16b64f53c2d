"""Contest rules as plain Python: submissions now; rubric, assignment and ranking to come."""
