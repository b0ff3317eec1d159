"""Build side of the pipeline: read documents, parse structure, chunk, embed, store.

Nothing here imports from ``qa``, ``api`` or ``eval``: data flows one way.
"""
