"""The answer step: candidate sentences, candidate spans, features, a learned ranker and
a calibrated confidence, behind one ``Reader.read`` call."""

from qa.reader.extractive import ExtractiveReader, Reader

__all__ = ["ExtractiveReader", "Reader"]
