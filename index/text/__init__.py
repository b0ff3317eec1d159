"""Stage 2 of the build: text into sentences, chunks, tokens and annotations.

``sentences`` splits, ``chunker`` packs whole sentences of one section into chunks under a
token budget (``tokens``), ``acronyms`` finds the documents' own definitions, ``nlp`` loads
the spaCy pipeline that ``annotate`` runs over every sentence (``annotate_cache`` keeps its
results in the build cache), and ``lexical`` makes the word tokens the BM25 leg indexes and
queries with.
"""
