"""Answers written by an OpenAI-compatible model, shown only when their quotes check out.

``prompt`` packs the question and the retrieved passages into the model's window, ``client``
asks the server, ``parse`` reads its JSON leniently, ``verify`` finds every quote in the
passage it names and turns it into a citation, and ``answerer`` ties them together.
"""
