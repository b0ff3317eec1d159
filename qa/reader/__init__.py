"""The answer step: candidate sentences, candidate spans, features, a learned ranker and
a calibrated confidence, behind one ``Reader.read`` call (``qa.reader.extractive``).

Nothing is imported here: ``qa.query`` uses ``qa.reader.rules`` while the readers use
``qa.query``, so importing a reader from this package's ``__init__`` would make a circle.
"""
