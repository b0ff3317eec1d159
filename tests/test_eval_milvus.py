"""The whole gold-set evaluation of the chapter on Milvus (Milvus Lite), against FAISS.

Same real model, same chapter, same questions; only where the search legs live differs.
Milvus fuses the two legs itself (RRF in the engine), so ranks may differ on ties: the
retrieval figures must stay within 0.02, citations must all verify, and every question
must abstain (or not) exactly as it does on FAISS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.gold import default_gold_path, load_gold
from eval.runner import run_system
from qa.service import QAService


@pytest.mark.slow
def test_gold_set_on_milvus_lite_answers_as_faiss(real_service: Any, tmp_path: Path) -> None:
    items = load_gold(default_gold_path(), "all")
    settings = real_service.settings.model_copy(
        update={"backend": "milvus", "index_dir": tmp_path / "index", "cache_size": 0}
    )
    milvus = QAService(settings, embedder=real_service.embedder, model=real_service.model)
    milvus.open()
    assert milvus.loaded.index.backend.name == "milvus"
    assert str(settings.milvus_target().uri).endswith("milvus.db")  # Milvus Lite
    on_faiss = run_system(real_service, items, k=10)
    on_milvus = run_system(milvus, items, k=10)
    f, m = on_faiss.metrics, on_milvus.metrics
    print(f"\n[milvus] hit@1 {m.hit_at_1:.3f} (faiss {f.hit_at_1:.3f}), hit@5 {m.hit_at_5:.3f} "
          f"(faiss {f.hit_at_5:.3f}), accuracy {m.accuracy:.3f} (faiss {f.accuracy:.3f}), "
          f"citations verified {m.citation_verification}, passages verified "
          f"{m.passage_verification}, p50 {m.latency_p50_ms:.0f} ms "
          f"(faiss {f.latency_p50_ms:.0f} ms)")
    assert abs(m.hit_at_1 - f.hit_at_1) <= 0.02
    assert abs(m.hit_at_5 - f.hit_at_5) <= 0.02
    assert m.citation_verification == f.citation_verification == 1.0
    assert m.passage_verification == 1.0  # passage text as Milvus returned it, verbatim
    assert m.citations > 0
    changed = [a.id for a, b in zip(on_faiss.results, on_milvus.results, strict=True)
               if a.abstained != b.abstained]
    assert not changed, f"abstention differs on {changed}"
