"""Answers as people and programs read them: the text and the JSON of ``why``,
``timeline`` and ``status``, built once for the command line and the service's
HTTP API alike, so the two give the same bytes for the same question."""
