"""Archive: tag a whole recording collection once and keep the results searchable (issue 19)."""
