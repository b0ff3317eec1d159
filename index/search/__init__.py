"""Stage 4 of the build and the first step of a query: the two search legs behind one
interface (``backend``).

In one process: ``vectors`` (FAISS) and ``bm25`` (bm25s), files in the index version. With
Milvus: ``milvus_target`` (where), ``milvus`` (connecting, engine errors), ``milvus_lite``
(the in-process engine's failures), ``milvus_store`` (a version as a collection),
``milvus_backend`` (searching it) and ``engine_check`` (the engine against the manifest).
``legs`` writes both legs of a new version to whichever backend is configured.
"""
