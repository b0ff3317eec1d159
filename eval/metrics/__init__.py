"""Pure evaluation metrics for the citation-first question-answering tool, one module per
thing measured. Everything here is standard-library only and side-effect free, so it can
be imported cheaply from the evaluation harness and from tests.

* ``answers``: answer quality (the SQuAD v2 definitions) and the strict and lenient
  accuracies;
* ``evidence``: whether a passage or citation holds the gold evidence, and the rank of the
  first that does;
* ``ranking``: hit@k, reciprocal rank, nDCG@k;
* ``abstention``: precision, recall and false-positive rate of abstaining;
* ``calibration``: the reliability table and the expected calibration error;
* ``averages``: mean and percentile.
"""
