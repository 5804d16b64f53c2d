"""Contest rules as plain Python, without Flask: submissions, works and their pieces, judging
rounds (rubric, assignment, scoring, ranking, results), districts, activity reports, gallery."""
