"""English rules the feature reader proposes answer spans with, and the question parser
(``qa.query``) reads the question with.

``spans`` finds typed answers (dates, money, quantities, titles); ``phrases`` finds the rest
(definitions, acronym long forms, marker clauses) with ``definitions``, ``noun_phrases`` and
``clauses``; ``phrase_tokens`` holds the tokenizer and word classes they share. Only English
function words and markers live here: names come from the documents.
"""
