"""Query side: load the index, retrieve, answer with verified citations; the ``qa`` CLI."""
