"""Stage 1 of the build: documents in, plain text with structure out.

``corpus`` walks the corpus folder and reads each file (``.txt``/``.md`` as UTF-8, PDF and
HTML through ``extract/`` in a bounded child process), ``structure`` parses headings,
footnotes and captions into blocks with section paths, and ``textfold`` gives the plain form
of a text with a map back to the original offsets.
"""
